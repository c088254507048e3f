// Relaxation: FIRE, Fréchet cell filter, FixSymmetry, protocols with resumable state.
export { relax, protocolSha256, RELAX_STATE_FORMAT } from './relax.js';
export type { RelaxState, RelaxResult, RelaxOptions, RelaxVerdict, SpaceGroupRef } from './relax.js';
export { fireStep, initialFireState, maxRowNorm } from './fire.js';
export type { FireState } from './fire.js';
export { AtomsTarget, FrechetCellFilter } from './filters.js';
export type { Frame, Evaluation, RelaxTarget } from './filters.js';
export {
  prepareSymmetry,
  refineGeometry,
  symmetrizeVectors,
  symmetrizeTensor,
  adjustCell,
  adjustPositions,
  CellStepTooLargeError,
} from './fix-symmetry.js';
export type { SymmetryConstraint } from './fix-symmetry.js';
