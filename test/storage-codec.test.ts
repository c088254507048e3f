// Issue 18 item 4 (storage at 10^5), the encodings:
// - store/codec.ts format 2 is lossless: decode(encode(x)) is JSON.parse(JSON.stringify(x)) with
//   every float64 bit kept; float32 storage only for values that are exactly float32; payloads
//   of format 1 (gzip JSON, written before) and pruned markers still decode;
// - core/stability/compact.ts: classification of the reduced band/mesh sets is bit-identical to
//   the full sets' under every preset (real spectra of a pipeline run, and adversarial ones:
//   ties across rows and sets, degenerate modes, Γ rows, values at the thresholds);
// - pipeline/phonon-storage.ts: the compact phonon result keeps what the report draws (band
//   structure, DOS) and is a fraction of the full one.
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { pairPotential } from '../core/potential/pair.js';
import { STABILITY_PRESETS, type FrequencySet, type PhononSpectrum, classifyStability, defaultStabilityRules } from '../core/stability/index.js';
import { classificationSubset } from '../core/stability/compact.js';
import { mulberry32 } from '../core/math/random.js';
import { exampleStructures } from '../examples/structures.js';
import { compactPhonons, plotBandFrequencies } from '../pipeline/phonon-storage.js';
import { RELAX_PROTOCOLS } from '../config/relax.js';
import { runOne } from '../pipeline/run-one.js';
import { STEP_CACHE_VERSIONS, assertWorkerMatches, buildSettings, resolvedPotential } from '../pipeline/settings.js';
import { type PhononOut, classifyStep } from '../pipeline/steps.js';
import { compactBand, phononDos } from '../report/spectrum.js';
import { decodeAnyPayload, encodePayloadV1, encodePayloadV2, isPrunedPayload, payloadFormat, PRUNED_MAGIC } from '../store/codec.js';

const bits = (x: number): string => Buffer.from(new Float64Array([x]).buffer).toString('hex');

/** Every number of a and b, in order, with its float64 bits. */
function numberBits(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'number') out.push(bits(v));
  else if (Array.isArray(v)) for (const x of v) numberBits(x, out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(k), numberBits(x, out);
  else out.push(String(v));
  return out;
}

describe('step payload codec (format 2)', () => {
  it('round-trips exactly what format 1 kept, every float64 bit', () => {
    const rnd = mulberry32(7);
    const doubles = Array.from({ length: 500 }, () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12 - 6));
    const value = {
      forces: Array.from({ length: 20 }, () => Array.from({ length: 30 }, () => [rnd() - 0.5, rnd() * 1e-9, -rnd() * 1e3])),
      doubles,
      ints: [1, 2, 3, 4, 5, 6, -7, 2 ** 31, 2 ** 53 - 1],
      mixed: [1, 'a', null, 2.5, true],
      short: [0.1, 0.2],
      ragged: [[0.1], [], [1e-300, -5e300, 3]],
      nonFinite: [1, NaN, Infinity, 4, 5], // JSON keeps null for these: so does format 2
      nested: { a: { b: [[[0.30000000000000004, 1 / 3, Math.PI, Math.E]]] }, empty: [], s: 'x', n: null, u: undefined, t: new Date(0) },
      negZero: [-0, 0, -0, 1.5],
      f32: Array.from({ length: 200 }, (_, i) => Math.fround(Math.sin(i) * 40)),
      tail: [1 / 3, 2 / 3, 0.5, 0.25, 0.125], // float64 head, float32-exact tail
    };
    const expected = JSON.parse(JSON.stringify(value)) as unknown;
    const enc = encodePayloadV2(value);
    expect(payloadFormat(enc.bytes)).toBe(2);
    expect(enc.rawBytes).toBe(Buffer.byteLength(JSON.stringify(value)));
    const got = decodeAnyPayload(enc.bytes);
    expect(got).toEqual(expected);
    expect(numberBits(got)).toEqual(numberBits(expected));
    // and format 1 payloads (stored before) read as they did
    const old = encodePayloadV1(value);
    expect(payloadFormat(old.bytes)).toBe(1);
    expect(numberBits(decodeAnyPayload(old.bytes))).toEqual(numberBits(expected));
  });

  it('keeps float32-exact values in 4 bytes and everything else in 8 (never rounds)', () => {
    const rnd = mulberry32(3);
    const n = 20_000;
    const d64 = Array.from({ length: n }, () => rnd() * 100 - 50);
    const d32 = d64.map((x) => Math.fround(x));
    const s64 = encodePayloadV2(d64).bytes.length;
    const s32 = encodePayloadV2(d32).bytes.length;
    expect(numberBits(decodeAnyPayload(encodePayloadV2(d64).bytes))).toEqual(numberBits(d64)); // never rounded
    expect(s32).toBeLessThan(n * 4 + 200); // 4 bytes each at most
    expect(s32).toBeLessThan(s64);
    // one non-float32 value at the end keeps the whole array float64
    const mixed = [...d32, 0.1];
    expect(numberBits(decodeAnyPayload(encodePayloadV2(mixed).bytes))).toEqual(numberBits(mixed));
    // smaller than gzip of the JSON text for float64 data
    expect(s64).toBeLessThan(gzipSync(Buffer.from(JSON.stringify(d64))).length);
  });

  it('a pruned marker decodes to its record; an object with the marker key falls back to format 1', () => {
    const marker = Buffer.concat([PRUNED_MAGIC, Buffer.from(JSON.stringify({ pruned: { sha256: 'ab', bytes: 3, reason: 'r', at: 't' } }))]);
    expect(payloadFormat(marker)).toBe(0);
    const m = decodeAnyPayload<unknown>(marker);
    expect(isPrunedPayload(m)).toBe(true);
    expect(isPrunedPayload({ forces: [], energies: [], modelMs: 0 })).toBe(false);
    const clash = { '\u0000': 1, x: [1, 2, 3, 4, 5] };
    const e = encodePayloadV2(clash);
    expect(payloadFormat(e.bytes)).toBe(1);
    expect(decodeAnyPayload(e.bytes)).toEqual(clash);
  });
});

function classifyAll(spec: PhononSpectrum): unknown[] {
  const rules = defaultStabilityRules();
  return STABILITY_PRESETS.map((p) => {
    try {
      return classifyStability(spec, p, rules);
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  });
}

const reduce = (s: FrequencySet | undefined): FrequencySet | undefined => (s ? classificationSubset(s) : undefined);

describe('classification subset of band path and mesh', () => {
  it('gives bit-identical results under every preset on adversarial spectra', () => {
    const rnd = mulberry32(11);
    const rules = defaultStabilityRules();
    const thr = rules.presets['full-bz'].thresholdTHz;
    const gammaTol = rules.presets['full-bz'].gammaAcousticToleranceTHz;
    const special = [0, -0, -thr, -thr * 0.999, -thr * 1.001, gammaTol, -gammaTol, 1e-12, -1e-12, -rules.presets.mattersim.thresholdTHz, -rules.presets.phononbench.thresholdTHz];
    let checked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const nb = 3 + Math.floor(rnd() * 12);
      const mkSet = (nq: number, withGamma: boolean): FrequencySet => {
        const qpoints: number[][] = [];
        const frequencies: number[][] = [];
        for (let k = 0; k < nq; k++) {
          const gamma = withGamma && (k === 0 || rnd() < 0.05);
          qpoints.push(gamma ? [0, 0, rnd() < 0.5 ? 0 : 1] : [rnd() - 0.5, rnd() - 0.5, Math.round(rnd() * 8) / 8]);
          const row = Array.from({ length: nb }, () => {
            const r = rnd();
            if (r < 0.25) return special[Math.floor(rnd() * special.length)]!;
            if (r < 0.45) return -rnd() * 2;
            if (r < 0.55) return Math.round(rnd() * 4) / 4; // ties across rows
            return rnd() * 20;
          });
          if (rnd() < 0.3) row[1] = row[0]!; // degenerate lowest modes
          row.sort((a, b) => a - b);
          if (rnd() < 0.03) row.reverse(); // not ascending: kept whole
          frequencies.push(row);
        }
        return { qpoints, frequencies };
      };
      const spec: PhononSpectrum = { commensurate: mkSet(1 + Math.floor(rnd() * 8), true), band: mkSet(5 + Math.floor(rnd() * 60), rnd() < 0.7), mesh: mkSet(5 + Math.floor(rnd() * 80), rnd() < 0.7) };
      if (rnd() < 0.1) delete spec.commensurate;
      const reduced: PhononSpectrum = { ...(spec.commensurate ? { commensurate: spec.commensurate } : {}), band: reduce(spec.band)!, mesh: reduce(spec.mesh)! };
      expect(JSON.stringify(classifyAll(reduced))).toBe(JSON.stringify(classifyAll(spec)));
      expect(numberBits(classifyAll(reduced))).toEqual(numberBits(classifyAll(spec)));
      checked++;
    }
    expect(checked).toBe(300);
  });

  it('a real phonon result (pipeline run): compact storage classifies bit-identically, keeps band + DOS for the report, and is a fraction of the size', async () => {
    const pot = pairPotential('lennard-jones');
    const settings = buildSettings({ potential: resolvedPotential(pot), preset: 'full-bz', relaxProtocol: RELAX_PROTOCOLS['phononbench']!, supercell: { kind: 'phononbench' } });
    expect(settings.phonons.storage).toBe('compact');
    for (const name of ['Cu-fcc', 'CsCl-B2', 'CaTiO3-cubic']) {
      const st = exampleStructures().find((s) => s.name === name)!;
      const run = await runOne(st, settings, pot, { relax: false });
      const full = run.phonons!;
      expect(full.storage).toBeUndefined(); // one-process runs keep every frequency
      const stored = decodeAnyPayload<PhononOut>(encodePayloadV2(compactPhonons(full)).bytes);
      expect(stored.storage).toBe('compact');
      const a = classifyStep(full, 'full-bz', settings.classify.rules);
      const b = classifyStep(stored, 'full-bz', settings.classify.rules);
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      expect(numberBits(b)).toEqual(numberBits(a));
      // the report draws the band structure and the DOS from it
      const bandFull = compactBand(full)!;
      const bandStored = compactBand(stored)!;
      expect(bandStored.ticks).toEqual(bandFull.ticks);
      expect(bandStored.nu.length).toBe(bandFull.nu.length);
      expect(bandStored.pointsStored).toBe(full.band!.qpoints.length);
      expect(bandStored.soft?.nuTHz).toBe(bandFull.soft?.nuTHz);
      const plotted = plotBandFrequencies(stored.plot!.band!);
      for (const [i, row] of plotted.entries()) for (const [j, v] of row.entries()) {
        const k = full.band!.qpoints.findIndex((q) => q.every((x, c) => Math.fround(x) === stored.plot!.band!.qpoints[i]![c]));
        expect(v).toBeGreaterThanOrEqual(full.band!.frequencies[k]![j]!);
        expect(v - full.band!.frequencies[k]![j]!).toBeLessThan(1 / 1024);
      }
      const dosFull = phononDos(full)!;
      const dosStored = phononDos(stored)!;
      expect(dosStored.nu0).toBe(dosFull.nu0);
      expect(dosStored.dnu).toBe(dosFull.dnu);
      for (const [i, v] of dosStored.values.entries()) expect(Math.abs(v - dosFull.values[i]!)).toBeLessThanOrEqual(1e-3 * Math.max(...dosFull.values));
      expect(encodePayloadV2(compactPhonons(full)).bytes.length).toBeLessThan(0.5 * encodePayloadV1(full).bytes.length);
    }
  }, 120_000);

  it('new campaigns store phonons compact under phonons-3; workers still serve and compute phonons-2 campaigns (frozen settings, every frequency)', () => {
    expect(STEP_CACHE_VERSIONS.phonons).toBe('phonons-3');
    const pot = pairPotential('lennard-jones');
    const s = buildSettings({ potential: resolvedPotential(pot), preset: 'full-bz', relaxProtocol: RELAX_PROTOCOLS['phononbench']!, supercell: { kind: 'phononbench' } });
    const { storage: _s, ...oldPhonons } = s.phonons;
    const old = { ...s, cacheVersions: { ...s.cacheVersions, phonons: 'phonons-2' }, phonons: oldPhonons };
    expect(() => assertWorkerMatches(old, 'phonons', 'w')).not.toThrow();
    expect(() => assertWorkerMatches({ ...old, cacheVersions: { ...old.cacheVersions, phonons: 'phonons-1' } }, 'phonons', 'w')).toThrow(/cache version/);
  });
});
