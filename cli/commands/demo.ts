// softmode demo (npm run demo): a real campaign over example crystals the project builds itself
// from textbook lattice constants (examples/structures.ts): CHGNet 0.3.0 when its model is
// shipped, otherwise the classical pair potential (said loudly: its labels mean nothing).
import { join } from 'node:path';
import { exampleStructures, writeExamples } from '../../examples/structures.js';
import { potentialFor } from '../../pipeline/potentials.js';
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv } from '../../engine/campaign.js';
import { run as runCampaign } from './run.js';

export const summary = 'run a real campaign over built-in example crystals (Si, NaCl, MgO, CaTiO3, ...)';

const SPEC = {
  model: { kind: 'string', metavar: 'NAME', help: 'potential (default chgnet-0.3.0 when shipped, else lennard-jones)' },
  supercell: { kind: 'string', default: 'phononbench', metavar: 'RULE', help: 'supercell rule, as for softmode run (default phononbench)' },
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
  const structures = exampleStructures();
  const files = writeExamples(join(dir, 'examples'), structures);
  console.log(`demo: ${structures.length} example crystals written to ${join(dir, 'examples')} (${structures.map((s) => s.name).join(', ')})`);
  const code = await runCampaign([
    ...files,
    '--model', model,
    '--supercell', v.supercell,
    '--preset', v.preset,
    '--campaign-dir', dir,
    '--name', `demo-${model}`,
  ]);
  if (code === 0 || code === 1) await printTable(dir, `demo-${model}`);
  return code;
}

/** One line per structure: label under each preset, minimum frequency and where it is. */
async function printTable(dir: string, name: string): Promise<void> {
  const env = await openEnv(dir, { temporal: false });
  try {
    const c = await env.store.getCampaign(name);
    if (!c) return;
    const rows = await env.store.exportPage(c.id, 0, 1000);
    console.log(`\n${'structure'.padEnd(18)} ${'label'.padEnd(18)} ${'min ν (THz)'.padStart(11)}  where            q               phononbench / loew / mattersim`);
    for (const r of rows) {
      const labels = (r['labels'] ?? {}) as Record<string, string>;
      const q = Array.isArray(r['min_freq_q']) ? `(${(r['min_freq_q'] as number[]).map((x) => x.toFixed(3)).join(', ')})` : '';
      const nu = typeof r['min_freq_thz'] === 'number' ? (r['min_freq_thz'] as number).toFixed(3) : '-';
      console.log(
        `${String(r['source_name'] ?? '').replace(/\.vasp$/, '').padEnd(18)} ${String(r['label'] ?? r['status']).padEnd(18)} ${nu.padStart(11)}  ${String(r['min_freq_where'] ?? '').padEnd(16)} ${q.padEnd(24)} ${[labels['phononbench'], labels['loew'], labels['mattersim']].map((x) => x ?? '-').join(' / ')}`,
      );
    }
    console.log(`\nprovenance of any row: softmode audit <name> --campaign ${name} --campaign-dir ${dir}`);
  } finally {
    await env.close();
  }
}
