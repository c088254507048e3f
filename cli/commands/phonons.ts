// `softmode phonons <structure> --forces <FORCE_SETS|phonopy.yaml> | --model NAME [--dim ...] [--preset ...] [--out DIR]`
// Post-processes displacement–force sets in this one process (no Temporal): force constants,
// frequencies at commensurate q, band path and mesh, the stability classification, thermo, and
// phonopy-readable files so a label can be cross-checked with phonopy.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PHONON_CONFIG } from '../../config/phonon.js';
import { SoftmodeInputError, UsageError } from '../../core/errors.js';
import {
  postProcess,
  STABILITY_PRESETS,
  type DisplacementForces,
  type PostProcessResult,
  type StabilityPreset,
  type SupercellRule,
} from '../../core/phonon/index.js';
import { SUPERCELL_SPEC_HELP, supercellRuleOf } from '../../pipeline/supercell.js';
import { buildSettings, disposePotentials, displaceStep, forcesStep, fromJson, potentialFor, resolvedPotential, relaxStep, toJson, trajectoryPotentialFor } from '../../pipeline/index.js';
import { RELAX_PROTOCOLS, withTrajectoryPrecision } from '../../config/relax.js';
import {
  formatBandYaml,
  formatForceSets,
  formatMeshYaml,
  formatPhonopyDispYaml,
  parseForceSets,
  parsePhonopyConf,
  parsePhonopyYaml,
  type PhonopyData,
} from '../../core/phonon/phonopy-io.js';
import { readStructureFile } from '../../core/structure/io/index.js';
import type { Structure } from '../../core/structure/structure.js';
import { type OptionsSpec, TRAJECTORY_PRECISIONS, formatOptions, parseCommandArgs, threadsOption } from '../lib/args.js';

export const summary = 'phonons in one process: from displacement–force sets (FORCE_SETS, phonopy yaml) or a potential (--model); classification, band/mesh, phonopy files';

const SPEC = {
  forces: { kind: 'string', metavar: 'FILE', help: 'FORCE_SETS (type 1) or a phonopy yaml with forces per displacement' },
  model: { kind: 'string', metavar: 'NAME', help: 'instead of --forces: compute the forces with this potential, in this\nprocess (no Temporal): relax, displace, evaluate, post-process' },
  relax: { kind: 'enum', values: [...Object.keys(RELAX_PROTOCOLS), 'none'], default: 'phononbench', metavar: 'PROTOCOL', help: 'with --model: relaxation protocol first (default phononbench; none = as read)' },
  threads: { kind: 'positive-int', metavar: 'N', help: 'with --model: onnxruntime threads (default: all cores; one process)' },
  'trajectory-precision': {
    kind: 'enum',
    values: TRAJECTORY_PRECISIONS,
    metavar: 'P',
    help: "with --model: float32 | float64, the model's precision along the\nrelaxation trajectory (default: the protocol's, float32 for\nphononbench); acceptance test, energy and all phonon forces are float64",
  },
  supercell: { kind: 'string', default: 'preset', metavar: 'RULE', help: `with --model and no --dim: ${SUPERCELL_SPEC_HELP}` },
  dim: { kind: 'matrix', counts: [1, 3, 9], integer: true, metavar: '"2 2 2"', help: "supercell matrix (1, 3 or 9 integers, phonopy's DIM; negative entries allowed)" },
  pa: { kind: 'matrix', counts: [3, 9], metavar: '"0 1/2 1/2 ..."', help: "primitive matrix (9 numbers/fractions, phonopy's PRIMITIVE_AXES; may start with '-')" },
  conf: { kind: 'string', metavar: 'FILE', help: 'phonopy.conf with DIM / PRIMITIVE_AXIS (default: phonopy.conf beside\n--forces, when present and --dim is not given)' },
  preset: { kind: 'enum', values: STABILITY_PRESETS, default: 'full-bz', metavar: 'NAME', help: `${STABILITY_PRESETS.join(' | ')} (default full-bz); all are computed` },
  mesh: { kind: 'vector', length: 3, integer: true, min: 1, metavar: '"N1 N2 N3"', help: `mesh divisions (default from density ${PHONON_CONFIG.meshLength}·|b|)` },
  'no-band': { kind: 'boolean', help: 'skip the HPKOT band path' },
  'phononbench-compat': { kind: 'boolean', help: "band path with seekpath coordinates used verbatim in the input cell\n(PhononBench's quirk; correct only for the HPKOT primitive cell)" },
  'no-symmetrize': { kind: 'boolean', help: 'no level-1 symmetrization of the force constants' },
  'keep-drift': { kind: 'boolean', help: 'do not subtract the mean force of each displaced supercell' },
  factor: { kind: 'number', positive: true, metavar: 'X', help: `frequency conversion factor (default ${PHONON_CONFIG.frequencyFactorTHz})` },
  out: { kind: 'string', metavar: 'DIR', help: 'write phonopy_disp.yaml, FORCE_SETS, band.yaml, mesh.yaml, result.json' },
  json: { kind: 'boolean', help: 'print the result summary as JSON' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode phonons <structure> --forces <FORCE_SETS|phonopy.yaml> [options]
       softmode phonons <structure> --model <chgnet-0.3.0|lennard-jones|...> [--relax phononbench|mattersim|none] [options]

<structure> is any structure file (POSCAR, CIF, ...) or a phonopy yaml holding the unit cell.

options:
${formatOptions(SPEC)}`;

function looksLikePhonopyYaml(path: string): boolean {
  if (!/\.ya?ml$/i.test(path)) return false;
  const head = readFileSync(path, 'utf8').slice(0, 4000);
  return /^(phonopy|unit_cell|supercell_matrix|displacements|natom):/m.test(head);
}

function summaryLines(r: PostProcessResult, chosen: StabilityPreset): string[] {
  const out: string[] = [];
  const m = r.model;
  out.push(`supercell ${m.supercell.numbers.length} atoms (matrix ${JSON.stringify(m.supercellMatrix)}), primitive ${m.primitive.numbers.length} atoms`);
  out.push(`commensurate q: ${r.commensurate.qpoints.length}; band: ${r.band ? (r.band.segments.length > 0 ? `${r.band.segments.reduce((a, s) => a + s.qpoints.length, 0)} q` : r.band.note ?? 'none') : 'off'}; mesh: ${r.mesh ? `${r.mesh.mesh.join('×')} (${r.mesh.qpoints.length} irreducible)` : 'off'}`);
  for (const p of STABILITY_PRESETS) {
    const c = r.classification[p];
    const mark = p === chosen ? '*' : ' ';
    if (!c) {
      out.push(`${mark} ${p.padEnd(12)} not evaluated: ${r.unclassified[p] ?? ''}`);
      continue;
    }
    out.push(`${mark} ${p.padEnd(12)} ${c.label.toUpperCase().padEnd(9)} min ν ${c.min.frequency.toFixed(4)} THz at q=${JSON.stringify(c.min.qpoint.map((x) => +x.toFixed(4)))} (${c.min.set}, band ${c.min.band}); ${c.reason}`);
  }
  const c = r.classification[chosen] ?? Object.values(r.classification)[0];
  if (c?.acousticSum) out.push(`acoustic sum at Γ: max |ν| ${c.acousticSum.maxAbsTHz.toExponential(2)} THz (${c.acousticSum.ok ? 'ok' : 'VIOLATED'})`);
  if (c?.maxFrequency) out.push(`ν_max ${c.maxFrequency.THz.toFixed(4)} THz = ${c.maxFrequency.K.toFixed(1)} K`);
  if (r.thermo) out.push(`ZPE ${r.thermo.zpe.toFixed(6)} kJ/mol; F(300 K) ${r.thermo.points.find((p) => p.temperature === 300)?.freeEnergy.toFixed(6) ?? '-'} kJ/mol`);
  return out;
}

interface ModelForces {
  unitcell: Structure;
  supercell: Structure;
  supercellMatrix: readonly (readonly number[])[];
  sets: DisplacementForces[];
}

/** The one-process path, through the pipeline's steps: (relax →) supercell → displacements → forces. */
async function forcesFromModel(
  input: Structure,
  model: string,
  o: { relax: string; trajectoryPrecision?: 'float32' | 'float64'; matrix?: readonly (readonly number[])[]; supercellRule: string; preset: string; threads: number; log: (line: string) => void },
): Promise<ModelForces> {
  const spec = { model, threads: o.threads };
  try {
    const potential = await potentialFor(spec);
    let unitcell = toJson(input);
    if (o.relax !== 'none') {
      const named = RELAX_PROTOCOLS[o.relax];
      if (!named) throw new UsageError(`unknown relaxation protocol '${o.relax}' (${Object.keys(RELAX_PROTOCOLS).join(', ')}, none)`);
      const protocol = o.trajectoryPrecision ? withTrajectoryPrecision(named, o.trajectoryPrecision) : named;
      const trajectory = await trajectoryPotentialFor(spec, potential, protocol);
      const r = await relaxStep(unitcell, potential, trajectory, protocol, null, Number.MAX_SAFE_INTEGER, () => undefined);
      o.log(
        `relax (${o.relax}, ${potential.identity.model}, ${r.trajectoryPrecision} trajectory): ${r.status}${r.reason ? ` (${r.reason})` : ''}, ${r.steps} steps, max force ${(r.maxForce ?? NaN).toExponential(3)} eV/Å, ${((r.energy ?? NaN) / r.structure.numbers.length).toFixed(6)} eV/atom`,
      );
      if (!r.usable) o.log('warning: phonons of an unconverged relaxation (PhononBench counts it as unstable)');
      unitcell = r.structure;
    }
    const rule: SupercellRule = o.matrix ? { kind: 'explicit', matrix: o.matrix } : supercellRuleOf(o.supercellRule, o.preset);
    const settings = buildSettings({ potential: resolvedPotential(potential), preset: o.preset, relaxProtocol: RELAX_PROTOCOLS['phononbench']!, supercell: rule });
    const disp = displaceStep(unitcell, settings.displace);
    const f = await forcesStep(disp.supercell, disp.displacements, potential);
    o.log(`forces: ${disp.displacements.length} displaced supercells of ${disp.supercell.numbers.length} atoms (${potential.identity.model})`);
    return {
      unitcell: fromJson(unitcell),
      supercell: fromJson(disp.supercell),
      supercellMatrix: disp.supercellMatrix,
      sets: disp.displacements.map((d, i) => ({ atom: d.atom, displacement: [d.displacement[0]!, d.displacement[1]!, d.displacement[2]!], forces: f.forces[i]!.map((v) => [v[0]!, v[1]!, v[2]!]) })),
    };
  } finally {
    await disposePotentials();
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('phonons', argv, SPEC, USAGE);
  if (typeof args === 'number') return args;
  const v = args.values;
  const [structPath] = args.positionals;
  if (!structPath || (!v.forces) === (!v.model)) {
    console.error(USAGE);
    return 2;
  }
  const preset: StabilityPreset = v.preset;
  try {
    // unit cell
    let unitcell: Structure;
    let fromYaml: PhonopyData = {};
    if (looksLikePhonopyYaml(structPath)) {
      fromYaml = parsePhonopyYaml(readFileSync(structPath, 'utf8'), structPath);
      if (!fromYaml.unitcell) throw new UsageError(`${structPath} has no unit_cell`);
      unitcell = fromYaml.unitcell;
    } else {
      const all = readStructureFile(structPath);
      if (all.length !== 1) throw new UsageError(`${structPath} holds ${all.length} structures; give exactly one`);
      unitcell = all[0]!;
    }
    let sets: DisplacementForces[];
    let supercellMatrix: readonly (readonly number[])[] | undefined;
    let forcesYaml: PhonopyData = {};
    let computedSupercell: Structure | undefined;
    let primitiveFromConf: readonly (readonly number[])[] | undefined;
    if (v.model) {
      const computed = await forcesFromModel(unitcell, v.model, {
        relax: v.relax,
        ...(v['trajectory-precision'] ? { trajectoryPrecision: v['trajectory-precision'] } : {}),
        ...(v.dim ? { matrix: v.dim } : {}),
        supercellRule: v.supercell,
        preset,
        threads: threadsOption(v.threads),
        log: (line) => {
          if (!v.json) console.log(line);
        },
      });
      unitcell = computed.unitcell;
      sets = computed.sets;
      supercellMatrix = computed.supercellMatrix;
      computedSupercell = computed.supercell;
    } else {
      const forcesPath = v.forces!;
      if (looksLikePhonopyYaml(forcesPath)) {
        forcesYaml = parsePhonopyYaml(readFileSync(forcesPath, 'utf8'), forcesPath);
        const d = forcesYaml.displacements ?? [];
        if (d.length === 0 || d.some((x) => !('forces' in x))) throw new UsageError(`${forcesPath} has no forces for its displacements`);
        sets = d as DisplacementForces[];
      } else {
        sets = parseForceSets(readFileSync(forcesPath, 'utf8'), forcesPath).sets;
      }
      // matrices: command line > --conf > phonopy.conf beside the forces > yaml files
      let conf: ReturnType<typeof parsePhonopyConf> = {};
      const confPath = v.conf ?? (v.dim ? undefined : join(dirname(forcesPath), 'phonopy.conf'));
      if (confPath && existsSync(confPath)) conf = parsePhonopyConf(readFileSync(confPath, 'utf8'));
      else if (v.conf) throw new UsageError(`no such file: ${v.conf}`);
      supercellMatrix = v.dim ?? conf.supercellMatrix ?? forcesYaml.supercellMatrix ?? fromYaml.supercellMatrix;
      primitiveFromConf = conf.primitiveMatrix;
    }
    if (!supercellMatrix) throw new UsageError('no supercell matrix: give --dim, --conf or a phonopy yaml that has one');
    const primitiveMatrix = v.pa ?? primitiveFromConf ?? forcesYaml.primitiveMatrix ?? fromYaml.primitiveMatrix;
    const masses = fromYaml.unitcellMasses?.every((m) => m > 0) ? fromYaml.unitcellMasses : undefined;
    const supercell = computedSupercell ?? forcesYaml.supercell ?? fromYaml.supercell;
    const mesh = v.mesh ?? 'default';
    const factor = v.factor ?? forcesYaml.frequencyFactor ?? PHONON_CONFIG.frequencyFactorTHz;
    if (!(factor > 0)) throw new UsageError('--factor must be a positive number');
    const r = postProcess({
      unitcell,
      supercellMatrix,
      ...(primitiveMatrix ? { primitiveMatrix } : {}),
      ...(supercell ? { supercell } : {}),
      displacements: sets,
      ...(masses ? { masses } : {}),
      symmetrizeLevel: v['no-symmetrize'] ? 0 : PHONON_CONFIG.symmetrizeLevel,
      removeDrift: !v['keep-drift'],
      frequencyFactor: factor,
      options: { band: v['no-band'] ? false : 'auto', mesh, ...(v['phononbench-compat'] ? { bandPathOptions: { phononbenchCompat: true } } : {}) },
    });
    const m = r.model;
    const json = {
      configVersion: r.configVersion,
      supercellMatrix: m.supercellMatrix,
      primitiveMatrix: m.primitiveMatrix,
      natomsSupercell: m.supercell.numbers.length,
      natomsPrimitive: m.primitive.numbers.length,
      preset,
      label: r.classification[preset]?.label ?? null,
      classification: r.classification,
      unclassified: r.unclassified,
      commensurate: { qpoints: r.commensurate.qpoints, frequencies: r.commensurate.frequencies.map((f) => Array.from(f)) },
      thermo: r.thermo,
      timingsMs: r.timingsMs,
    };
    if (v.out) {
      mkdirSync(v.out, { recursive: true });
      writeFileSync(
        join(v.out, 'phonopy_disp.yaml'),
        formatPhonopyDispYaml({
          unitcell: m.unitcell,
          unitcellMasses: m.unitcellMasses,
          supercell: m.supercell,
          supercellMasses: m.supercellMasses,
          supercellMatrix: m.supercellMatrix,
          primitiveMatrix: m.primitiveMatrix,
          displacements: sets,
          symprec: PHONON_CONFIG.symprec,
          frequencyFactor: factor,
        }),
      );
      writeFileSync(join(v.out, 'FORCE_SETS'), formatForceSets(m.supercell.numbers.length, sets));
      if (r.band && r.band.segments.length > 0)
        writeFileSync(join(v.out, 'band.yaml'), formatBandYaml({ primitive: m.primitive, masses: m.primitiveMasses, segments: r.band.segments.map((s) => ({ ...(s.labels ? { labels: s.labels } : {}), qpoints: s.qpoints, frequencies: s.frequencies.map((f) => Array.from(f)) })) }));
      if (r.mesh)
        writeFileSync(join(v.out, 'mesh.yaml'), formatMeshYaml({ primitive: m.primitive, masses: m.primitiveMasses, mesh: r.mesh.mesh, qpoints: r.mesh.qpoints, weights: r.mesh.weights, frequencies: r.mesh.frequencies.map((f) => Array.from(f)) }));
      writeFileSync(join(v.out, 'result.json'), JSON.stringify(json, null, 1) + '\n');
    }
    if (v.json) console.log(JSON.stringify(json, null, 1));
    else for (const l of summaryLines(r, preset)) console.log(l);
    return 0;
  } catch (e) {
    if (e instanceof SoftmodeInputError) {
      console.error(`softmode phonons: ${e.message} [${e.code}]`);
      return 2;
    }
    throw e;
  }
}
