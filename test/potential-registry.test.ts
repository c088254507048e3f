// core/potential/registry.ts: every name resolves through one registry; ML models are found as
// models/<name>/ folders whose manifest states a known architecture; identities carry the
// architecture and the precision.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftmodeInputError } from '../core/errors.js';
import {
  ModelIntegrityError,
  OnnxPotential,
  PairPotential,
  architectureStrategy,
  knownArchitectures,
  knownPotentials,
  readManifest,
  registerPotential,
  resolvePotential,
  resolveTrajectoryPotential,
  type Potential,
} from '../core/potential/index.js';
import { chgnetArchitecture } from '../core/potential/strategy-chgnet.js';
import { REPO_ROOT } from './helpers.js';
import { rockSalt } from './relax-fixtures.js';

const MODEL_DIR = join(REPO_ROOT, 'models/chgnet-0.3.0');
const MANIFEST = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown> & {
  files: Record<string, { path: string }>;
  inputs: Record<string, unknown>;
};
const TODAYS_NAMES = [
  'chgnet-0.3.0',
  'chgnet-0.3.0-float32',
  'chgnet-0.3.0-float64',
  'm3gnet-matpes-pbe-v2025.1',
  'm3gnet-matpes-pbe-v2025.1-float32',
  'm3gnet-matpes-pbe-v2025.1-float64',
  'm3gnet-mp-2021.2.8',
  'm3gnet-mp-2021.2.8-float32',
  'm3gnet-mp-2021.2.8-float64',
  'tensornet-matpes-pbe-v2025.1',
  'tensornet-matpes-pbe-v2025.1-float32',
  'tensornet-matpes-pbe-v2025.1-float64',
  'lennard-jones',
  'morse',
];

let tmp: string;
/** A model folder `name` under `root`: the chgnet manifest changed by `edit`, its ONNX files linked. */
function modelFolder(root: string, name: string, edit: (m: Record<string, unknown>) => void = () => undefined): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const m = structuredClone(MANIFEST) as Record<string, unknown>;
  m['name'] = name;
  edit(m);
  for (const f of Object.values(MANIFEST.files)) symlinkSync(join(MODEL_DIR, f.path), join(dir, f.path));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'softmode-registry-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('names', () => {
  it('knownPotentials lists the shipped model and the pair potentials, with their names', () => {
    const known = knownPotentials();
    expect(known.flatMap((k) => k.names)).toEqual(TODAYS_NAMES);
    const chgnet = known.find((k) => k.name === 'chgnet-0.3.0')!;
    expect(chgnet).toMatchObject({ kind: 'onnx', architecture: 'chgnet', precisions: ['float32', 'float64'], modelDir: MODEL_DIR });
    expect(chgnet.licence).toMatch(/BSD/);
    expect(chgnet.summary).toMatch(/CHGNet 0\.3\.0/);
    expect(known.find((k) => k.name === 'lennard-jones')).toMatchObject({ kind: 'pair', architecture: 'pair-lennard-jones', precisions: ['float64'] });
    expect(known.find((k) => k.name === 'morse')).toMatchObject({ kind: 'pair', architecture: 'pair-morse', precisions: ['float64'] });
  });

  it('every name resolves; the identity carries architecture and precision', async () => {
    const want: Record<string, { architecture: string; precision: string; model: string }> = {
      'chgnet-0.3.0': { model: 'chgnet-0.3.0', architecture: 'chgnet', precision: 'float64' },
      'chgnet-0.3.0-float32': { model: 'chgnet-0.3.0', architecture: 'chgnet', precision: 'float32' },
      'chgnet-0.3.0-float64': { model: 'chgnet-0.3.0', architecture: 'chgnet', precision: 'float64' },
      'lennard-jones': { model: 'lennard-jones', architecture: 'pair-lennard-jones', precision: 'float64' },
      morse: { model: 'morse', architecture: 'pair-morse', precision: 'float64' },
    };
    for (const [m, arch] of [['m3gnet-mp-2021.2.8', 'matgl-m3gnet'], ['m3gnet-matpes-pbe-v2025.1', 'matgl-m3gnet'], ['tensornet-matpes-pbe-v2025.1', 'matgl-tensornet']] as const) {
      want[m] = { model: m, architecture: arch, precision: 'float64' };
      want[`${m}-float32`] = { model: m, architecture: arch, precision: 'float32' };
      want[`${m}-float64`] = { model: m, architecture: arch, precision: 'float64' };
    }
    for (const name of TODAYS_NAMES) {
      const p = await resolvePotential(name, { threads: 1 });
      try {
        expect(p.identity).toMatchObject(want[name]!);
        expect(p.identity.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
        // the identity is hashed into cache keys: exactly these four fields, in this order
        expect(Object.keys(p.identity)).toEqual(['model', 'checkpointSha256', 'architecture', 'precision']);
      } finally {
        await p.dispose?.();
      }
    }
    const p = await resolvePotential('chgnet-0.3.0', { precision: 'float32', threads: 1 });
    expect(p.identity.precision).toBe('float32');
    await p.dispose?.();
  });

  it('unknown names fail with the list of known names; a precision conflict fails too', async () => {
    const e = await rejection(resolvePotential('chgnet-9.9.9'));
    expect(e).toBeInstanceOf(SoftmodeInputError);
    expect((e as SoftmodeInputError).code).toBe('invalid_argument');
    expect((e as Error).message).toBe(`unknown potential 'chgnet-9.9.9'; known: ${TODAYS_NAMES.join(', ')}`);
    // pair potentials have no precision variants
    await expect(resolvePotential('lennard-jones-float64')).rejects.toBeInstanceOf(SoftmodeInputError);
    const c = await rejection(resolvePotential('chgnet-0.3.0-float32', { precision: 'float64' }));
    expect(c).toBeInstanceOf(SoftmodeInputError);
    expect((c as SoftmodeInputError).code).toBe('invalid_argument');
  });
});

describe('model folders', () => {
  it('a second model folder (another name, the same ONNX files) is discovered and runs', async () => {
    const root = join(tmp, 'two-models');
    modelFolder(root, 'chgnet-0.3.0');
    modelFolder(root, 'chgnet-copy', (m) => (m['description'] = 'a copy'));
    const known = knownPotentials({ modelsRoot: root });
    expect(known.map((k) => k.name)).toEqual(['chgnet-0.3.0', 'chgnet-copy', 'lennard-jones', 'morse']);
    expect(known.find((k) => k.name === 'chgnet-copy')).toMatchObject({ kind: 'onnx', architecture: 'chgnet', summary: 'a copy', names: ['chgnet-copy', 'chgnet-copy-float32', 'chgnet-copy-float64'] });
    const s = rockSalt(5.6);
    const copy = await resolvePotential('chgnet-copy-float32', { modelsRoot: root, threads: 1 });
    const orig = await resolvePotential('chgnet-0.3.0-float32', { threads: 1 });
    try {
      expect(copy.identity).toEqual({ ...orig.identity, model: 'chgnet-copy' });
      const [a] = await copy.evaluate([s]);
      const [b] = await orig.evaluate([s]);
      expect(a).toEqual(b);
    } finally {
      await copy.dispose?.();
      await orig.dispose?.();
    }
    // the default root does not have it
    await expect(resolvePotential('chgnet-copy')).rejects.toBeInstanceOf(SoftmodeInputError);
  });

  it('a manifest without an architecture, or with an unknown one, is refused with a typed error', async () => {
    const root = join(tmp, 'bad-models');
    const none = modelFolder(root, 'no-arch', (m) => delete m['architecture']);
    const unknown = modelFolder(root, 'odd-arch', (m) => (m['architecture'] = 'nequip'));
    modelFolder(root, 'good');
    for (const [dir, name, pattern] of [
      [none, 'no-arch', /does not state its architecture \(one of: chgnet, m3gnet, matgl-m3gnet, matgl-tensornet\)/],
      [unknown, 'odd-arch', /names architecture "nequip"; known: chgnet, m3gnet, matgl-m3gnet, matgl-tensornet/],
    ] as const) {
      for (const attempt of [
        () => resolvePotential(name, { modelDir: dir }),
        () => resolvePotential(name, { modelsRoot: root }),
        () => resolvePotential(`${name}-float32`, { modelsRoot: root }),
        () => OnnxPotential.load(name, { modelDir: dir }),
        async () => readManifest(dir),
      ]) {
        const e = await rejection(attempt());
        expect(e).toBeInstanceOf(ModelIntegrityError);
        expect((e as ModelIntegrityError).code).toBe('model_manifest_invalid');
        expect((e as Error).message).toMatch(pattern);
      }
    }
    // the broken folders are not offered, and do not stop the others from resolving
    expect(knownPotentials({ modelsRoot: root }).map((k) => k.name)).toEqual(['good', 'lennard-jones', 'morse']);
    const good = await resolvePotential('good', { modelsRoot: root, threads: 1 });
    expect(good.identity.architecture).toBe('chgnet');
    await good.dispose?.();
  });

  it('the architecture, not the cutoffs, decides; each strategy checks its own fields', async () => {
    const root = join(tmp, 'arch-checks');
    // an m3gnet manifest needs a three-body cutoff; a chgnet one a bond-graph cutoff equal to config's
    const m3 = modelFolder(root, 'm3', (m) => (m['architecture'] = 'm3gnet'));
    expect(() => readManifest(m3)).toThrow(/architecture m3gnet\) lacks cutoffs_A.three_body/);
    const m3ok = modelFolder(root, 'm3ok', (m) => {
      m['architecture'] = 'm3gnet';
      m['cutoffs_A'] = { atom_graph: 5, three_body: 4 };
    });
    expect(readManifest(m3ok).architecture).toBe('m3gnet');
    const chgnetCutoffs = modelFolder(root, 'c', (m) => (m['cutoffs_A'] = { atom_graph: 5, three_body: 4 }));
    expect(() => readManifest(chgnetCutoffs)).toThrow(ModelIntegrityError);
    const wrong = modelFolder(root, 'w', (m) => (m['cutoffs_A'] = { atom_graph: 5, bond_graph: 3 }));
    expect(() => readManifest(wrong)).toThrow(/differ from config\/potential.ts CHGNET_GRAPH/);
    // a folder whose manifest names another model
    modelFolder(root, 'renamed', (m) => (m['name'] = 'something-else'));
    await expect(resolvePotential('renamed', { modelsRoot: root })).rejects.toMatchObject({ name: 'ModelIntegrityError', code: 'model_manifest_invalid' });
  });

  it('strategies feed exactly the inputs their ONNX contracts name', () => {
    expect(knownArchitectures()).toEqual(['chgnet', 'm3gnet', 'matgl-m3gnet', 'matgl-tensornet']);
    const s = rockSalt(5.6);
    const chgnet = chgnetArchitecture;
    expect(architectureStrategy('chgnet')).toBe(chgnetArchitecture);
    const g = chgnet.buildGraph(s, readManifest(MODEL_DIR));
    const feeds = chgnet.feeds(chgnet.batch([g, g]), 'float32');
    expect(Object.keys(feeds).sort()).toEqual(Object.keys(MANIFEST.inputs).sort());
    expect(feeds['lattice']!.dims).toEqual([2, 3, 3]);
    expect(feeds['frac_coords']!.type).toBe('float32');
    const m3 = architectureStrategy('m3gnet')!;
    const m3manifest = { ...MANIFEST, architecture: 'm3gnet', cutoffs_A: { atom_graph: 5, three_body: 4 } } as unknown as Parameters<typeof m3.buildGraph>[1];
    const g3 = m3.buildGraph(s, m3manifest);
    const f3 = m3.feeds(m3.batch([g3]), 'float64');
    // tools/export/m3gnet_flat.py INPUT_NAMES
    expect(Object.keys(f3)).toEqual(['atomic_numbers', 'positions', 'cell', 'atom_owner', 'edge_index', 'edge_offset', 'three_body']);
    expect(m3.sizeOf(g3).triplets).toBe(f3['three_body']!.dims[0]);
    expect(chgnet.sizeOf(g)).toEqual({ atoms: 8, edges: g.edgeCenter.length, triplets: g.triplets.length / 5 });
    expect(architectureStrategy('nequip')).toBeUndefined();
  });
});

describe('registration and trajectory precision', () => {
  it('an in-code potential registers, resolves, is listed and unregisters', async () => {
    const pair = new PairPotential('morse', { epsilon: 0.5 });
    const off = registerPotential({ name: 'soft-morse', kind: 'pair', architecture: 'pair-morse', precisions: ['float64'], load: async () => pair });
    try {
      expect(await resolvePotential('soft-morse')).toBe(pair);
      expect(knownPotentials().map((k) => k.name)).toContain('soft-morse');
      expect(() => registerPotential({ name: 'soft-morse', kind: 'pair', architecture: 'x', precisions: ['float64'], load: async () => pair })).toThrow(TypeError);
    } finally {
      off();
    }
    await expect(resolvePotential('soft-morse')).rejects.toBeInstanceOf(SoftmodeInputError);
  });

  it('resolveTrajectoryPotential: the same model in the other precision, null when there is nothing to load', async () => {
    const p64 = await resolvePotential('chgnet-0.3.0-float64', { threads: 1, maxAtomsPerRun: 32 });
    let p32: Potential | null = null;
    try {
      p32 = await resolveTrajectoryPotential(p64, 'float32');
      expect(p32).toBeInstanceOf(OnnxPotential);
      expect(p32!.identity).toEqual({ ...p64.identity, precision: 'float32' });
      // same folder and run settings
      expect((p32 as OnnxPotential).modelPath).toBe(join(MODEL_DIR, MANIFEST.files['float32']!.path));
      expect((p32 as OnnxPotential).settings).toEqual({ ...(p64 as OnnxPotential).settings, precision: 'float32' });
      expect(await resolveTrajectoryPotential(p64, 'float64')).toBeNull();
      expect(await resolveTrajectoryPotential(p64, null)).toBeNull();
      expect(await resolveTrajectoryPotential(p64, undefined)).toBeNull();
      expect(await resolveTrajectoryPotential(await resolvePotential('lennard-jones'), 'float32')).toBeNull();
    } finally {
      await p32?.dispose?.();
      await p64.dispose?.();
    }
  });
});
