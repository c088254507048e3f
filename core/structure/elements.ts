import { ELEMENT_TABLE } from './elements-table.js';

const bySymbol = new Map<string, number>();
for (const [z, sym] of ELEMENT_TABLE) bySymbol.set(sym, z);

export const MAX_ATOMIC_NUMBER = 118;

/** Atomic number of an element symbol ("Si", case-insensitive first letter fix-up), or undefined. */
export function atomicNumber(symbol: string): number | undefined {
  const s = symbol.trim();
  if (s.length === 0) return undefined;
  const norm = s[0]!.toUpperCase() + s.slice(1).toLowerCase();
  return bySymbol.get(norm);
}

export function symbolOf(z: number): string {
  const row = ELEMENT_TABLE[z - 1];
  if (!row) throw new RangeError(`no element with atomic number ${z}`);
  return row[1];
}

/** Atomic mass in AMU from phonopy's table (NaN for elements without a standard mass). */
export function atomicMass(z: number): number {
  const row = ELEMENT_TABLE[z - 1];
  if (!row) throw new RangeError(`no element with atomic number ${z}`);
  return row[2];
}

/** Covalent radius in Å (Cordero 2008, as in ASE). */
export function covalentRadius(z: number): number {
  const row = ELEMENT_TABLE[z - 1];
  if (!row) throw new RangeError(`no element with atomic number ${z}`);
  return row[3];
}
