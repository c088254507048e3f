// Shared test structures for the relaxation and pair-potential tests.
import { makeStructure, type Structure } from '../core/structure/structure.js';

/** Deterministic pseudo-random numbers in [-1, 1) (xorshift32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  };
}

/** Conventional rock-salt cell (8 atoms), Na at 0, Cl at ½. */
export function rockSalt(a: number, zA = 11, zB = 17): Structure {
  const fcc = [
    [0, 0, 0],
    [0, 0.5, 0.5],
    [0.5, 0, 0.5],
    [0.5, 0.5, 0],
  ];
  return makeStructure({
    lattice: [
      [a, 0, 0],
      [0, a, 0],
      [0, 0, a],
    ],
    frac: [...fcc, ...fcc.map((p) => [p[0]! + 0.5, p[1]!, p[2]!])],
    numbers: [zA, zA, zA, zA, zB, zB, zB, zB],
    name: 'rocksalt',
  });
}

/** A structure with its lattice strained and positions shifted by amplitude (Å) pseudo-randomly. */
export function rattle(s: Structure, seed: number, posAmp: number, cellAmp = 0): Structure {
  const r = prng(seed);
  const L = s.lattice.map((row) => row.map((x) => x));
  const eps = [0, 1, 2].map(() => [0, 1, 2].map(() => cellAmp * r()));
  const L2 = L.map((row) => [0, 1, 2].map((k) => row[k]! + row[0]! * eps[0]![k]! + row[1]! * eps[1]![k]! + row[2]! * eps[2]![k]!));
  const frac = s.frac.map((f) => f.map((x) => x + (posAmp / 5) * r()));
  return makeStructure({ lattice: L2, frac, numbers: s.numbers, name: s.name ?? 'rattled' });
}

/** Wurtzite-like hexagonal cell (P6_3mc), 4 atoms. */
export function wurtzite(a: number, c: number, u = 0.375, zA = 30, zB = 8): Structure {
  return makeStructure({
    lattice: [
      [a, 0, 0],
      [-a / 2, (a * Math.sqrt(3)) / 2, 0],
      [0, 0, c],
    ],
    frac: [
      [1 / 3, 2 / 3, 0],
      [2 / 3, 1 / 3, 0.5],
      [1 / 3, 2 / 3, u],
      [2 / 3, 1 / 3, 0.5 + u],
    ],
    numbers: [zA, zA, zB, zB],
    name: 'wurtzite',
  });
}
