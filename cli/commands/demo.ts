// softmode demo (npm run demo): a real campaign over example crystals the project builds itself
// from textbook lattice constants (examples/structures.ts): CHGNet 0.3.0 when its model is
// shipped, otherwise the classical pair potential (said loudly: its labels mean nothing).
import { join } from 'node:path';
import { exampleExpectations, exampleStructures, writeExamples } from '../../examples/structures.js';
import { SUPERCELL_POLICY } from '../../config/phonon.js';
import { SETTINGS_VERSION } from '../../pipeline/settings.js';
import { potentialFor } from '../../pipeline/potentials.js';
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv } from '../../engine/campaign.js';
import { run as runCampaign } from './run.js';

export const summary = 'run a real campaign over built-in example crystals (Si, NaCl, MgO, CaTiO3, ...)';

const SPEC = {
  model: { kind: 'string', metavar: 'NAME', help: 'potential (default chgnet-0.3.0 when shipped, else lennard-jones)' },
  supercell: { kind: 'string', default: 'preset', metavar: 'RULE', help: "supercell rule, as for softmode run (default: the preset's policy)" },
  preset: { kind: 'string', default: 'full-bz', metavar: 'NAME', help: 'stability preset, as for softmode run (default full-bz)' },
  'campaign-dir': { kind: 'string', default: '.campaigns/demo', metavar: 'DIR', help: 'services + state (default .campaigns/demo)' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode demo [--model NAME] [--campaign-dir DIR]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('demo', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  const dir = campaignDirOf(v['campaign-dir']);
  let model = v.model;
  if (!model) {
    try {
      await potentialFor({ model: 'chgnet-0.3.0', threads: 1 });
      model = 'chgnet-0.3.0';
    } catch (e) {
      model = 'lennard-jones';
      console.log(`demo: CHGNet is not available in this build (${(e as Error).message}); using the classical Lennard-Jones test potential — its labels are NOT physical.`);
    }
  }
  // the settings layout and supercell policy are part of the name: a demo directory from older
  // code gets a new campaign
  const name = `demo-${model}-${v.preset}-s${SETTINGS_VERSION}-${SUPERCELL_POLICY.version}${v.supercell === 'preset' ? '' : `-${v.supercell.replace(/[^A-Za-z0-9.]+/g, '_')}`}`;
  const structures = exampleStructures();
  const files = writeExamples(join(dir, 'examples'), structures);
  console.log(`demo: ${structures.length} example crystals written to ${join(dir, 'examples')} (${structures.map((s) => s.name).join(', ')})`);
  const code = await runCampaign([
    ...files,
    '--model', model,
    '--supercell', v.supercell,
    '--preset', v.preset,
    '--campaign-dir', dir,
    '--name', name,
    // one structure's forces at a time: the policy lets one supercell use ~7.5 GB of CHGNet
    // activations (150k bond triplets, config/phonon.ts); two of them side by side plus the
    // arenas onnxruntime keeps would not fit a 24 GB machine
    '--inference-slots', '1',
  ]);
  if (code === 0 || code === 1) await printTable(dir, name, model, v.preset);
  return code;
}

/**
 * One line per structure: label under the chosen preset beside the textbook verdict, minimum
 * frequency and where it is, and the other presets' labels; then every disagreement with the
 * textbook, named as the model's (the engine reproduces phonopy and ASE; docs/accuracy.md).
 */
async function printTable(dir: string, name: string, model: string, preset: string): Promise<void> {
  const env = await openEnv(dir, { temporal: false });
  try {
    const c = await env.store.getCampaign(name);
    if (!c) return;
    const expected = exampleExpectations();
    const rows = await env.store.exportPage(c.id, 0, 1000);
    console.log(`\n${'structure'.padEnd(18)} ${'textbook'.padEnd(9)} ${preset.padEnd(18)} ${'min ν (THz)'.padStart(11)}  where         q                         phononbench / loew / mattersim`);
    const wrong: string[] = [];
    for (const r of rows) {
      const labels = (r['labels'] ?? {}) as Record<string, string>;
      const q = Array.isArray(r['min_freq_q']) ? `(${(r['min_freq_q'] as number[]).map((x) => x.toFixed(3)).join(', ')})` : '';
      const nu = typeof r['min_freq_thz'] === 'number' ? (r['min_freq_thz'] as number).toFixed(3) : '-';
      const id = String(r['source_name'] ?? '').replace(/\.vasp$/, '');
      const want = expected[id];
      const got = String(r['label'] ?? r['status']);
      const agrees = want === undefined || got === want;
      if (!agrees) {
        const qv = Array.isArray(r['min_freq_q']) ? (r['min_freq_q'] as number[]) : [];
        const nearGamma = qv.length === 3 && Math.hypot(...qv.map((x) => x - Math.round(x))) < 0.1 && Math.abs(Number(r['min_freq_thz'])) < 0.2;
        const cause = nearGamma ? 'a small negative next to Γ: long-wavelength acoustic noise of the finite supercell / the potential\'s forces' : `the potential's forces: ${model} puts an imaginary mode there`;
        wrong.push(`${id}: textbook ${want}, ${model} gives ${got} (min ν ${nu} THz at q = ${q || '-'}, ${String(r['min_freq_where'] ?? '')}): ${cause}`);
      }
      console.log(
        `${id.padEnd(18)} ${(want ?? '?').padEnd(9)} ${(agrees ? got : `${got} ✗`).padEnd(18)} ${nu.padStart(11)}  ${String(r['min_freq_where'] ?? '').padEnd(13)} ${q.padEnd(25)} ${[labels['phononbench'], labels['loew'], labels['mattersim']].map((x) => x ?? '-').join(' / ')}`,
      );
    }
    if (wrong.length === 0) console.log(`\nevery label agrees with the textbook verdict (${rows.length} crystals, preset ${preset})`);
    else {
      console.log(
        `\n${wrong.length} label(s) differ from the textbook verdict. The phonon code reproduces phonopy to 1e-6 THz on 171 DFT force sets (docs/accuracy.md), so each comes from the model's forces (CHGNet 0.3.0 is known to soften phonons: Loew et al.) or, for small negatives next to Γ, from the finite supercell:`,
      );
      for (const w of wrong) console.log(`  ${w}`);
      // a second potential on the same crystals is the quickest check of a model error
      const other = model.startsWith('m3gnet') ? 'chgnet-0.3.0' : 'm3gnet-mp-2021.2.8';
      console.log(
        `a second opinion from another potential (the same crystals, one item per model; ${model}'s results are served from the store):\n` +
          `  softmode run ${join(dir, 'examples')} --model ${model},${other} --preset ${preset} --campaign-dir ${dir} --name demo-two-models --inference-slots 1\n` +
          `  softmode compare --campaign demo-two-models --campaign-dir ${dir}`,
      );
    }
    console.log(`\nprovenance of any row: softmode audit <name> --campaign ${name} --campaign-dir ${dir}`);
    // last: the campaign's report (softmode report), its path the final line
    const { writeReport } = await import('../../report/index.js');
    const { progressLine } = await import('../lib/progress.js');
    const report = await writeReport(env.store, c, join(dir, 'report.html'), { statusLine: (p) => progressLine(p) });
    console.log(`\nreport (band structures, rates, provenance; open it in a browser): softmode report --campaign ${name} --campaign-dir ${dir}`);
    console.log(report.path);
  } finally {
    await env.close();
  }
}
