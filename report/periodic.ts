// Where each element sits in the periodic table (18 columns; lanthanides and actinides in two
// rows below, their places in periods 6 and 7 left as markers), for the report's heat map.
import { MAX_ATOMIC_NUMBER, atomicNumber, symbolOf } from '../core/structure/elements.js';

/** [row, column], both 1-based; rows 9 and 10 hold La–Lu and Ac–Lr. */
export function periodicCell(z: number): [number, number] {
  if (z < 1 || z > MAX_ATOMIC_NUMBER) throw new RangeError(`no element with atomic number ${z}`);
  if (z === 1) return [1, 1];
  if (z === 2) return [1, 18];
  const inPeriod = (start: number, row: number): [number, number] => {
    const i = z - start; // 0-based within the period
    if (row <= 3) return [row, i < 2 ? i + 1 : i + 11];
    if (row <= 5) return [row, i + 1];
    // periods 6 and 7: s block, then the f block in its own row, then groups 4–18
    if (i < 2) return [row, i + 1];
    if (i < 17) return [row + 3, i + 1];
    return [row, i - 13];
  };
  if (z <= 10) return inPeriod(3, 2);
  if (z <= 18) return inPeriod(11, 3);
  if (z <= 36) return inPeriod(19, 4);
  if (z <= 54) return inPeriod(37, 5);
  if (z <= 86) return inPeriod(55, 6);
  return inPeriod(87, 7);
}

/** Atomic numbers of the elements of a formula ('CaTiO3' → [20, 22, 8]); unknown symbols are skipped. */
export function elementsOfFormula(formula: string): number[] {
  const out = new Set<number>();
  for (const m of formula.matchAll(/([A-Z][a-z]?)/g)) {
    const z = atomicNumber(m[1]!);
    if (z !== undefined) out.add(z);
  }
  return [...out];
}

export function periodicTable(): { symbols: string[]; cells: [number, number][] } {
  const symbols: string[] = [];
  const cells: [number, number][] = [];
  for (let z = 1; z <= MAX_ATOMIC_NUMBER; z++) {
    symbols.push(symbolOf(z));
    cells.push(periodicCell(z));
  }
  return { symbols, cells };
}
