// `softmode phonons <structure> --forces <FORCE_SETS|phonopy.yaml> | --model NAME [--dim ...] [--preset ...] [--out DIR]`
// Post-processes displacement–force sets in this one process (no Temporal): force constants,
// frequencies at commensurate q, band path and mesh, the stability classification, thermo, and
// phonopy-readable files so a label can be cross-checked with phonopy.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { PHONON_CONFIG } from '../../config/phonon.js';
import { SoftmodeInputError } from '../../core/errors.js';
import { type Mat3 } from '../../core/math/linalg.js';
import {
  postProcess,
  STABILITY_PRESETS,
  type DisplacementForces,
  type PostProcessResult,
  type StabilityPreset,
  type SupercellRule,
} from '../../core/phonon/index.js';
import { buildSettings, disposePotentials, displaceStep, forcesStep, fromJson, potentialFor, potentialRefOf, relaxStep, toJson, trajectoryPotentialFor } from '../../pipeline/index.js';
import { RELAX_PROTOCOLS, withTrajectoryPrecision } from '../../config/relax.js';
import {
  formatBandYaml,
  formatForceSets,
  formatMeshYaml,
  formatPhonopyDispYaml,
  parseForceSets,
  parseFraction,
  parsePhonopyConf,
  parsePhonopyYaml,
  type PhonopyData,
} from '../../core/phonon/phonopy-io.js';
import { readStructureFile } from '../../core/structure/io/index.js';
import type { Structure } from '../../core/structure/structure.js';
import { threadsOption, trajectoryPrecisionOption } from '../lib/args.js';

export const summary = 'phonons in one process: from displacement–force sets (FORCE_SETS, phonopy yaml) or a potential (--model); classification, band/mesh, phonopy files';

const USAGE = `usage: softmode phonons <structure> --forces <FORCE_SETS|phonopy.yaml> [options]
       softmode phonons <structure> --model <chgnet-0.3.0|lennard-jones|...> [--relax phononbench|mattersim|none] [options]

<structure> is any structure file (POSCAR, CIF, ...) or a phonopy yaml holding the unit cell.

options:
  --forces FILE            FORCE_SETS (type 1) or a phonopy yaml with forces per displacement
  --model NAME             instead of --forces: compute the forces with this potential, in this
                           process (no Temporal): relax, displace, evaluate, post-process
  --relax PROTOCOL         with --model: relaxation protocol first (default phononbench; none = as read)
  --threads N              with --model: onnxruntime threads (default: all cores; one process)
  --trajectory-precision P with --model: float32 | float64, the model's precision along the
                           relaxation trajectory (default: the protocol's, float32 for
                           phononbench); acceptance test, energy and all phonon forces are float64
  --supercell RULE         with --model and no --dim: phononbench (2×2×2 of the input, default) or
                           min-length (every vector ≥ 20 Å, capped in atoms)
  --dim "2 2 2"            supercell matrix (3 or 9 integers, phonopy's DIM)
  --pa "0 1/2 1/2 ..."     primitive matrix (9 numbers/fractions, phonopy's PRIMITIVE_AXES)
  --conf FILE              phonopy.conf with DIM / PRIMITIVE_AXIS (default: phonopy.conf beside
                           --forces, when present and --dim is not given)
  --preset NAME            ${STABILITY_PRESETS.join(' | ')} (default full-bz); all are computed
  --mesh "N1 N2 N3"        mesh divisions (default from density ${PHONON_CONFIG.meshLength}·|b|)
  --no-band                skip the HPKOT band path
  --phononbench-compat     band path with seekpath coordinates used verbatim in the input cell
                           (PhononBench's quirk; correct only for the HPKOT primitive cell)
  --no-symmetrize          no level-1 symmetrization of the force constants
  --keep-drift             do not subtract the mean force of each displaced supercell
  --factor X               frequency conversion factor (default ${PHONON_CONFIG.frequencyFactorTHz})
  --out DIR                write phonopy_disp.yaml, FORCE_SETS, band.yaml, mesh.yaml, result.json
  --json                   print the result summary as JSON
  -h, --help               this text`;

function parseMatrix(text: string, integer: boolean, what: string): Mat3 {
  const v = text.trim().split(/[\s,]+/).filter(Boolean).map(parseFraction);
  if (integer && v.some((x) => !Number.isInteger(x))) throw new SoftmodeInputError('invalid_argument', `${what} must be integers`);
  if (v.length === 3) return [[v[0]!, 0, 0], [0, v[1]!, 0], [0, 0, v[2]!]];
  if (v.length === 9) return [[v[0]!, v[1]!, v[2]!], [v[3]!, v[4]!, v[5]!], [v[6]!, v[7]!, v[8]!]];
  if (v.length === 1 && integer) return [[v[0]!, 0, 0], [0, v[0]!, 0], [0, 0, v[0]!]];
  throw new SoftmodeInputError('invalid_argument', `${what} needs ${integer ? '1, 3 or 9' : '9 (or 3 diagonal)'} numbers`);
}

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
  o: { relax: string; trajectoryPrecision?: 'float32' | 'float64'; matrix?: readonly (readonly number[])[]; supercellRule: string; threads: number; log: (line: string) => void },
): Promise<ModelForces> {
  const spec = { model, threads: o.threads };
  try {
    const potential = await potentialFor(spec);
    let unitcell = toJson(input);
    if (o.relax !== 'none') {
      const named = RELAX_PROTOCOLS[o.relax];
      if (!named) throw new SoftmodeInputError('invalid_argument', `unknown relaxation protocol '${o.relax}' (${Object.keys(RELAX_PROTOCOLS).join(', ')}, none)`);
      const protocol = o.trajectoryPrecision ? withTrajectoryPrecision(named, o.trajectoryPrecision) : named;
      const trajectory = await trajectoryPotentialFor(spec, potential, protocol);
      const r = await relaxStep(unitcell, potential, trajectory, protocol, null, Number.MAX_SAFE_INTEGER, () => undefined);
      o.log(
        `relax (${o.relax}, ${potential.identity.model}, ${r.trajectoryPrecision} trajectory): ${r.status}${r.reason ? ` (${r.reason})` : ''}, ${r.steps} steps, max force ${(r.maxForce ?? NaN).toExponential(3)} eV/Å, ${((r.energy ?? NaN) / r.structure.numbers.length).toFixed(6)} eV/atom`,
      );
      if (!r.usable) o.log('warning: phonons of an unconverged relaxation (PhononBench counts it as unstable)');
      unitcell = r.structure;
    }
    let rule: SupercellRule;
    if (o.matrix) rule = { kind: 'explicit', matrix: o.matrix };
    else if (o.supercellRule === 'phononbench') rule = { kind: 'phononbench' };
    else if (o.supercellRule === 'min-length') rule = { kind: 'min-length', minLength: PHONON_CONFIG.minSupercellLength, maxAtoms: PHONON_CONFIG.maxSupercellAtoms };
    else throw new SoftmodeInputError('invalid_argument', `--supercell must be phononbench or min-length (got '${o.supercellRule}')`);
    const settings = buildSettings({ potential: potentialRefOf(potential), preset: 'full-bz', relaxProtocol: RELAX_PROTOCOLS['phononbench']!, supercell: rule });
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
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        forces: { type: 'string' },
        model: { type: 'string' },
        relax: { type: 'string', default: 'phononbench' },
        threads: { type: 'string' },
        'trajectory-precision': { type: 'string' },
        supercell: { type: 'string', default: 'phononbench' },
        dim: { type: 'string' },
        pa: { type: 'string' },
        conf: { type: 'string' },
        preset: { type: 'string', default: 'full-bz' },
        mesh: { type: 'string' },
        'no-band': { type: 'boolean', default: false },
        'phononbench-compat': { type: 'boolean', default: false },
        'no-symmetrize': { type: 'boolean', default: false },
        'keep-drift': { type: 'boolean', default: false },
        factor: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`softmode phonons: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const [structPath] = args.positionals;
  if (!structPath || (!v.forces) === (!v.model)) {
    console.error(USAGE);
    return 2;
  }
  const preset = v.preset as StabilityPreset;
  if (!STABILITY_PRESETS.includes(preset)) {
    console.error(`softmode phonons: unknown preset '${preset}' (${STABILITY_PRESETS.join(', ')})`);
    return 2;
  }
  try {
    // unit cell
    let unitcell: Structure;
    let fromYaml: PhonopyData = {};
    if (looksLikePhonopyYaml(structPath)) {
      fromYaml = parsePhonopyYaml(readFileSync(structPath, 'utf8'), structPath);
      if (!fromYaml.unitcell) throw new SoftmodeInputError('invalid_argument', `${structPath} has no unit_cell`);
      unitcell = fromYaml.unitcell;
    } else {
      const all = readStructureFile(structPath);
      if (all.length !== 1) throw new SoftmodeInputError('invalid_argument', `${structPath} holds ${all.length} structures; give exactly one`);
      unitcell = all[0]!;
    }
    let sets: DisplacementForces[];
    let supercellMatrix: readonly (readonly number[])[] | undefined;
    let forcesYaml: PhonopyData = {};
    let computedSupercell: Structure | undefined;
    let primitiveFromConf: readonly (readonly number[])[] | undefined;
    if (v.model) {
      const computed = await forcesFromModel(unitcell, v.model, {
        relax: v.relax!,
        ...(v['trajectory-precision'] ? { trajectoryPrecision: trajectoryPrecisionOption(v['trajectory-precision'])! } : {}),
        ...(v.dim ? { matrix: parseMatrix(v.dim, true, '--dim') } : {}),
        supercellRule: v.supercell!,
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
        if (d.length === 0 || d.some((x) => !('forces' in x))) throw new SoftmodeInputError('invalid_argument', `${forcesPath} has no forces for its displacements`);
        sets = d as DisplacementForces[];
      } else {
        sets = parseForceSets(readFileSync(forcesPath, 'utf8'), forcesPath).sets;
      }
      // matrices: command line > --conf > phonopy.conf beside the forces > yaml files
      let conf: ReturnType<typeof parsePhonopyConf> = {};
      const confPath = v.conf ?? (v.dim ? undefined : join(dirname(forcesPath), 'phonopy.conf'));
      if (confPath && existsSync(confPath)) conf = parsePhonopyConf(readFileSync(confPath, 'utf8'));
      else if (v.conf) throw new SoftmodeInputError('invalid_argument', `no such file: ${v.conf}`);
      supercellMatrix = v.dim ? parseMatrix(v.dim, true, '--dim') : conf.supercellMatrix ?? forcesYaml.supercellMatrix ?? fromYaml.supercellMatrix;
      primitiveFromConf = conf.primitiveMatrix;
    }
    if (!supercellMatrix) throw new SoftmodeInputError('invalid_argument', 'no supercell matrix: give --dim, --conf or a phonopy yaml that has one');
    const primitiveMatrix = v.pa ? parseMatrix(v.pa, false, '--pa') : primitiveFromConf ?? forcesYaml.primitiveMatrix ?? fromYaml.primitiveMatrix;
    const masses = fromYaml.unitcellMasses?.every((m) => m > 0) ? fromYaml.unitcellMasses : undefined;
    const supercell = computedSupercell ?? forcesYaml.supercell ?? fromYaml.supercell;
    const mesh = v.mesh ? v.mesh.trim().split(/[\s,]+/).map(Number) : 'default';
    if (mesh !== 'default' && (mesh.length !== 3 || mesh.some((x) => !Number.isInteger(x) || x < 1)))
      throw new SoftmodeInputError('invalid_argument', '--mesh needs three positive integers');
    const factor = v.factor !== undefined ? Number(v.factor) : forcesYaml.frequencyFactor ?? PHONON_CONFIG.frequencyFactorTHz;
    if (!(factor > 0)) throw new SoftmodeInputError('invalid_argument', '--factor must be a positive number');
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
