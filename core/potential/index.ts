// One place to get a potential by name.
//
//   loadPotential('chgnet-0.3.0')                         ML model, precision from config
//   loadPotential('chgnet-0.3.0', { precision: 'float32', threads: 2 })
//   loadPotential('chgnet-0.3.0-float32')                 precision in the name
//   loadPotential('lennard-jones' | 'morse')              analytic pair potentials (engine tests)
//   loadTrajectoryPotential(potential, protocol)           the same model in a relaxation
//                                                          protocol's trajectory precision
import { dirname } from 'node:path';
import { ONNX_POTENTIAL_DEFAULTS, type OnnxPrecision } from '../../config/potential.js';
import { SoftmodeInputError } from '../errors.js';
import { OnnxPotential, type OnnxPotentialOptions } from './onnx-potential.js';
import { pairPotential } from './pair.js';
import type { Potential } from './types.js';

export { OnnxPotential, ModelIntegrityError } from './onnx-potential.js';
export type { OnnxPotentialOptions } from './onnx-potential.js';
export type { Potential, PotentialIdentity, PotentialResult } from './types.js';

/** ML models shipped in models/ (name → folder). */
export const ML_MODELS: readonly string[] = ['chgnet-0.3.0'];
export const PAIR_MODELS: readonly string[] = ['lennard-jones', 'morse'];

export async function loadPotential(name: string = ONNX_POTENTIAL_DEFAULTS.defaultModel, options: OnnxPotentialOptions = {}): Promise<Potential> {
  if (name === 'lennard-jones' || name === 'morse') return pairPotential(name);
  const m = /^(.*?)(?:-(float32|float64))?$/.exec(name);
  const base = m?.[1] ?? name;
  const precisionFromName = m?.[2] as OnnxPrecision | undefined;
  if (!ML_MODELS.includes(base))
    throw new SoftmodeInputError(
      'invalid_argument',
      `unknown potential '${name}'; known: ${[...ML_MODELS, ...ML_MODELS.flatMap((b) => [`${b}-float32`, `${b}-float64`]), ...PAIR_MODELS].join(', ')}`,
    );
  if (precisionFromName && options.precision && options.precision !== precisionFromName)
    throw new SoftmodeInputError('invalid_argument', `'${name}' names ${precisionFromName} but options ask for ${options.precision}`);
  return OnnxPotential.load(base, { ...options, ...(precisionFromName ? { precision: precisionFromName } : {}) });
}

/**
 * The potential a relaxation protocol's FIRE trajectory runs on (core/relax `trajectoryPotential`):
 * the same ONNX model (same folder, same run settings) in `protocol.trajectoryPrecision`. Null
 * when `potential` already runs in that precision, when the protocol names none, or for a
 * potential with a single precision (the pair potentials).
 */
export async function loadTrajectoryPotential(potential: Potential, protocol: { trajectoryPrecision?: OnnxPrecision | null }): Promise<Potential | null> {
  const want = protocol.trajectoryPrecision;
  if (!want || potential.identity.precision === want || !(potential instanceof OnnxPotential)) return null;
  const { version: _v, defaultModel: _d, modelsDir: _m, ...settings } = potential.settings;
  return OnnxPotential.load(potential.identity.model, { ...settings, modelDir: dirname(potential.modelPath), precision: want });
}
