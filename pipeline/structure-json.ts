// Structures as plain JSON: how they are stored in PostgreSQL, cross thread boundaries and sit
// inside step payloads.
import { type Structure, makeStructure } from '../core/structure/structure.js';

export interface StructureJson {
  lattice: number[][];
  frac: number[][];
  numbers: number[];
  name?: string;
}

export function toJson(s: Structure): StructureJson {
  return {
    lattice: s.lattice.map((r) => [...r]),
    frac: s.frac.map((r) => [...r]),
    numbers: [...s.numbers],
    ...(s.name !== undefined ? { name: s.name } : {}),
  };
}

export function fromJson(j: StructureJson): Structure {
  return makeStructure({ lattice: j.lattice, frac: j.frac, numbers: j.numbers, ...(j.name !== undefined ? { name: j.name } : {}) });
}
