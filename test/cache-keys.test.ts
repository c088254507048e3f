// Cache keys hash exactly what each step reads (engine rule 1, issue #13 item 6): perturbing any
// one resolved setting changes the keys of the steps that read it and of no other step, and
// every setting is accounted for in the table below (a new setting fails this test until it is
// classified). Also writes bench/results/cache-keys.json: every step key's inputs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RELAX_PROTOCOLS } from '../config/relax.js';
import { pairPotential } from '../core/potential/pair.js';
import { type CampaignSettings, STEP_CACHE_VERSIONS, type StepName, buildSettings, resolvedPotential, stepKeyOf, stepKeyParams } from '../pipeline/settings.js';
import { REPO_ROOT } from './helpers.js';

const STEPS = Object.keys(STEP_CACHE_VERSIONS) as StepName[];

/** Which steps read a setting, by path prefix (longest prefix wins). Written by hand, not derived. */
const READERS: [string, StepName[]][] = [
  ['potential', ['relax', 'forces']],
  ['cacheVersions.validate', ['validate']],
  ['cacheVersions.relax', ['relax']],
  ['cacheVersions.displace', ['displace']],
  ['cacheVersions.forces', ['forces']],
  ['cacheVersions.phonons', ['phonons']],
  ['cacheVersions.classify', ['classify']],
  ['validate', ['validate']],
  ['relax.protocol', ['relax']],
  ['displace', ['displace']],
  ['forcesBatching', ['displace']],
  ['phonons', ['phonons']],
  ['classify', ['classify']],
  // read by no step: the result row's label column, engine policy, resume granularity, audit copy
  ['preset', []],
  ['settingsVersion', []],
  ['relaxCheckpointEvery', []],
  ['policy', []],
  ['config', []],
  // what the store keeps beyond each step's result (pruning consumed forces): no key reads it
  ['storage', []],
];

function readersOf(path: string): StepName[] | undefined {
  let best: [string, StepName[]] | undefined;
  for (const r of READERS) if ((path === r[0] || path.startsWith(r[0] + '.')) && (!best || r[0].length > best[0].length)) best = r;
  return best?.[1];
}

/** Every leaf (path, value) of the settings, arrays as leaves of their elements. */
function leaves(v: unknown, path = ''): string[] {
  if (v === null || typeof v !== 'object') return [path];
  const out: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out.push(...leaves(x, path ? `${path}.${k}` : k));
  return out;
}

function perturbed(s: CampaignSettings, path: string): CampaignSettings {
  const copy = structuredClone(s) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let o = copy as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  const v = o[last];
  o[last] = typeof v === 'number' ? v * 1.5 + 1e-3 : typeof v === 'boolean' ? !v : typeof v === 'string' ? v + '-x' : v === null ? 1 : v;
  return copy as unknown as CampaignSettings;
}

const REFS = { structure: 'a'.repeat(64), validate: 'b'.repeat(64), relax: 'c'.repeat(64), displace: 'd'.repeat(64), forces: 'e'.repeat(64), phonons: 'f'.repeat(64) };

function keys(s: CampaignSettings): Record<StepName, string> {
  return {
    validate: stepKeyOf(s, 'validate', [REFS.structure]),
    relax: stepKeyOf(s, 'relax', [REFS.structure]),
    displace: stepKeyOf(s, 'displace', [REFS.relax]),
    forces: stepKeyOf(s, 'forces', [REFS.displace], { batch: 0 }),
    phonons: stepKeyOf(s, 'phonons', [REFS.displace, REFS.forces]),
    classify: stepKeyOf(s, 'classify', [REFS.phonons]),
  };
}

function settings(precision: 'float32' | 'float64' = 'float64'): CampaignSettings {
  const resolved = resolvedPotential(pairPotential('lennard-jones'));
  return buildSettings({
    // a CHGNet-like identity: the potential's fields are what matter here, not its numbers
    potential: { ref: { ...resolved.ref, model: 'chgnet-0.3.0', architecture: 'chgnet', precision }, supportedElements: [1, 2, 3] },
    preset: 'full-bz',
    relaxProtocol: RELAX_PROTOCOLS['phononbench']!,
    supercell: { kind: 'phononbench' },
  });
}

describe('step cache keys', () => {
  it('each setting moves the keys of exactly the steps that read it', () => {
    const base = settings();
    const k0 = keys(base);
    const paths = leaves({ ...base, config: null, policy: null }).filter((p) => p !== 'config' && p !== 'policy');
    expect(paths.length).toBeGreaterThan(40);
    const report: Record<string, StepName[]> = {};
    for (const path of paths) {
      const expected = readersOf(path);
      expect(expected, `setting '${path}' is not classified in READERS`).toBeDefined();
      const k1 = keys(perturbed(base, path));
      const changed = STEPS.filter((st) => k1[st] !== k0[st]);
      expect(changed, `changing '${path}'`).toEqual(expected);
      report[path] = changed;
    }
    // the engine policy and the audit copy of the config move no key
    expect(keys({ ...base, policy: { ...base.policy, retry: { ...base.policy.retry, maximumAttempts: 99 } } })).toEqual(k0);
    expect(keys({ ...base, config: { areas: {}, versions: {}, sha256: '0'.repeat(64) } })).toEqual(k0);

    const out: Record<string, unknown> = {
      note: 'Generated by test/cache-keys.test.ts. key = sha256(step, cacheVersion, inputRefs, params, modelSha256); params = exactly the settings below.',
      cacheVersions: STEP_CACHE_VERSIONS,
      inputRefs: {
        validate: ['structure geometry sha256'],
        relax: ['structure geometry sha256'],
        displace: ['relax key'],
        forces: ['displace key'],
        phonons: ['displace key', 'forces keys (one per batch)'],
        classify: ['phonons key'],
      },
      params: Object.fromEntries(STEPS.map((st) => [st, Object.keys(stepKeyParams(base, st)).concat(st === 'forces' ? ['batch'] : [])])),
      modelSha256In: ['relax', 'forces'],
      settingReaders: report,
    };
    mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'results', 'cache-keys.json'), JSON.stringify(out, null, 1) + '\n');
  });

  it('float32 and float64 campaigns share no model-dependent result', () => {
    const k64 = keys(settings('float64'));
    const k32 = keys(settings('float32'));
    // relax and forces hash the precision; everything downstream hashes their keys
    expect(k32.relax).not.toBe(k64.relax);
    expect(k32.forces).not.toBe(k64.forces);
    const chain = (s: CampaignSettings) => {
      const relax = stepKeyOf(s, 'relax', [REFS.structure]);
      const displace = stepKeyOf(s, 'displace', [relax]);
      const forces = stepKeyOf(s, 'forces', [displace], { batch: 0 });
      const phonons = stepKeyOf(s, 'phonons', [displace, forces]);
      return { relax, displace, forces, phonons, classify: stepKeyOf(s, 'classify', [phonons]) };
    };
    const c64 = chain(settings('float64'));
    const c32 = chain(settings('float32'));
    for (const st of ['relax', 'displace', 'forces', 'phonons', 'classify'] as const) expect(c32[st], st).not.toBe(c64[st]);
    // validation evaluates no model: its result is the same structure check in both
    expect(k32.validate).toBe(k64.validate);
  });

  it('a trajectory precision of its own gives the relaxation another key', () => {
    const a = settings();
    const b = structuredClone(a);
    b.relax.protocol = { ...b.relax.protocol, trajectoryPrecision: 'float64' };
    expect(keys(b).relax).not.toBe(keys(a).relax);
    expect(keys(b).forces).toBe(keys(a).forces);
  });
});
