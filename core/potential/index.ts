// core/potential: one interface (types.ts), one registry (registry.ts) that maps every name to
// an implementation, ONNX models fed by one strategy per stated architecture (architectures.ts),
// analytic pair potentials for engine tests (pair.ts).
//
//   resolvePotential('chgnet-0.3.0' | 'chgnet-0.3.0-float32' | 'lennard-jones', options)
//   resolveTrajectoryPotential(potential, 'float32')
//   knownPotentials()
export { knownPotentials, registerPotential, resolvePotential, resolveTrajectoryPotential } from './registry.js';
export type { PotentialEntry, PotentialInfo, PotentialKind, ResolvePotentialOptions } from './registry.js';
export { architectureStrategy, knownArchitectures } from './architectures.js';
export type { GraphSize, ModelArchitecture, ModelBatch, ModelGraph } from './strategy.js';
export { readManifest, type OnnxModelManifest } from './manifest.js';
export { ModelIntegrityError, type ModelErrorCode } from './model-error.js';
export { OnnxPotential } from './onnx-potential.js';
export type { OnnxPotentialOptions } from './onnx-potential.js';
export { PairPotential, pairArchitecture, type PairKind } from './pair.js';
export type { Potential, PotentialIdentity, PotentialResult } from './types.js';
