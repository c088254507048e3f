// Example crystals the project builds itself, from textbook room-temperature lattice constants
// (Kittel, Introduction to Solid State Physics, Table 1.3 / CRC Handbook values), in their
// primitive cells. Used by `softmode demo` and the engine tests. No downloaded data.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePoscar } from '../core/structure/io/index.js';
import { atomicNumber } from '../core/structure/elements.js';
import { type Structure, makeStructure } from '../core/structure/structure.js';

type Site = [string, number, number, number];

function fccPrimitive(a: number): number[][] {
  return [
    [0, a / 2, a / 2],
    [a / 2, 0, a / 2],
    [a / 2, a / 2, 0],
  ];
}

function bccPrimitive(a: number): number[][] {
  return [
    [-a / 2, a / 2, a / 2],
    [a / 2, -a / 2, a / 2],
    [a / 2, a / 2, -a / 2],
  ];
}

function cubic(a: number): number[][] {
  return [
    [a, 0, 0],
    [0, a, 0],
    [0, 0, a],
  ];
}

function build(name: string, lattice: number[][], sites: Site[]): Structure {
  return makeStructure({
    name,
    lattice,
    frac: sites.map((s) => [s[1], s[2], s[3]]),
    numbers: sites.map((s) => {
      const z = atomicNumber(s[0]);
      if (!z) throw new Error(`unknown element ${s[0]}`);
      return z;
    }),
  });
}

const rocksalt = (name: string, a: number, cation: string, anion: string) =>
  build(name, fccPrimitive(a), [
    [cation, 0, 0, 0],
    [anion, 0.5, 0.5, 0.5],
  ]);
const diamond = (name: string, a: number, x: string, y = x) =>
  build(name, fccPrimitive(a), [
    [x, 0, 0, 0],
    [y, 0.25, 0.25, 0.25],
  ]);
const fcc = (name: string, a: number, x: string) => build(name, fccPrimitive(a), [[x, 0, 0, 0]]);
const bcc = (name: string, a: number, x: string) => build(name, bccPrimitive(a), [[x, 0, 0, 0]]);
const cesiumChloride = (name: string, a: number, x: string, y: string) =>
  build(name, cubic(a), [
    [x, 0, 0, 0],
    [y, 0.5, 0.5, 0.5],
  ]);
const perovskite = (name: string, a: number, A: string, B: string, X: string) =>
  build(name, cubic(a), [
    [A, 0, 0, 0],
    [B, 0.5, 0.5, 0.5],
    [X, 0.5, 0.5, 0],
    [X, 0.5, 0, 0.5],
    [X, 0, 0.5, 0.5],
  ]);
const fluorite = (name: string, a: number, M: string, X: string) =>
  build(name, fccPrimitive(a), [
    [M, 0, 0, 0],
    [X, 0.25, 0.25, 0.25],
    [X, 0.75, 0.75, 0.75],
  ]);

/** What textbooks / experiment say about a crystal's dynamical stability at 0 K in the given structure. */
export type ExpectedStability = 'stable' | 'unstable';

interface Example {
  build: () => Structure;
  expected: ExpectedStability;
}

// Lattice constants in Å. `expected`: the harmonic (0 K) verdict for the given cubic structure.
// All are the observed ground-state structures (stable), except the two cubic perovskites:
// CaTiO3 is orthorhombic (Pnma, a⁻a⁻c⁺ octahedral tilts) below ~1500 K and SrTiO3 tetragonal
// (I4/mcm, antiferrodistortive a⁰a⁰c⁻ rotation) below ~105 K, so their cubic Pm-3m cells have
// imaginary octahedral-rotation modes at the R and M zone-boundary points (the tilt modes;
// DFT: R₂₅ imaginary in both, and also M₃ and a polar Γ mode in CaTiO3).
const EXAMPLES: readonly Example[] = [
  { build: () => diamond('Si-diamond', 5.431, 'Si'), expected: 'stable' },
  { build: () => diamond('C-diamond', 3.567, 'C'), expected: 'stable' },
  { build: () => diamond('Ge-diamond', 5.658, 'Ge'), expected: 'stable' },
  { build: () => diamond('GaAs-zincblende', 5.653, 'Ga', 'As'), expected: 'stable' },
  { build: () => rocksalt('NaCl-rocksalt', 5.64, 'Na', 'Cl'), expected: 'stable' },
  { build: () => rocksalt('MgO-rocksalt', 4.212, 'Mg', 'O'), expected: 'stable' },
  { build: () => rocksalt('KCl-rocksalt', 6.293, 'K', 'Cl'), expected: 'stable' },
  { build: () => rocksalt('LiF-rocksalt', 4.027, 'Li', 'F'), expected: 'stable' },
  { build: () => perovskite('CaTiO3-cubic', 3.895, 'Ca', 'Ti', 'O'), expected: 'unstable' },
  { build: () => perovskite('SrTiO3-cubic', 3.905, 'Sr', 'Ti', 'O'), expected: 'unstable' },
  { build: () => cesiumChloride('CsCl-B2', 4.123, 'Cs', 'Cl'), expected: 'stable' },
  { build: () => fluorite('CaF2-fluorite', 5.463, 'Ca', 'F'), expected: 'stable' },
  { build: () => fcc('Al-fcc', 4.05, 'Al'), expected: 'stable' },
  { build: () => fcc('Cu-fcc', 3.615, 'Cu'), expected: 'stable' },
  { build: () => bcc('W-bcc', 3.165, 'W'), expected: 'stable' },
  { build: () => bcc('Mo-bcc', 3.147, 'Mo'), expected: 'stable' },
];

/** The example crystals (primitive cells; lattice constants in Å). */
export function exampleStructures(): Structure[] {
  return EXAMPLES.map((e) => e.build());
}

/** Textbook / experimental 0 K verdict per example name (the `name` of `exampleStructures()`). */
export function exampleExpectations(): Record<string, ExpectedStability> {
  const out: Record<string, ExpectedStability> = {};
  for (const e of EXAMPLES) out[e.build().name!] = e.expected;
  return out;
}

/** Write the examples as POSCAR files into `dir`; returns the paths. */
export function writeExamples(dir: string, structures: readonly Structure[] = exampleStructures()): string[] {
  mkdirSync(dir, { recursive: true });
  return structures.map((s) => {
    const p = join(dir, `${s.name}.vasp`);
    writeFileSync(p, writePoscar(s));
    return p;
  });
}
