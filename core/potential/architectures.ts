// The ONNX architectures this build can run, by the name a manifest states in `architecture`.
// A new architecture = a new strategy object (strategy.ts) added here; a new model of a known
// architecture = a new models/<name>/ folder, no code.
import { chgnetArchitecture } from './strategy-chgnet.js';
import { m3gnetArchitecture } from './strategy-m3gnet.js';
import { matglM3gnetArchitecture, matglTensornetArchitecture } from './strategy-matgl.js';
import type { ModelArchitecture } from './strategy.js';

const ARCHITECTURES: ReadonlyMap<string, ModelArchitecture> = new Map<string, ModelArchitecture>(
  [chgnetArchitecture, m3gnetArchitecture, matglM3gnetArchitecture, matglTensornetArchitecture].map((a) => [a.name, a]),
);

/** The strategy a manifest's `architecture` names; undefined for an unknown one. */
export function architectureStrategy(name: string): ModelArchitecture | undefined {
  return ARCHITECTURES.get(name);
}

/** Names of the known ONNX architectures, sorted. */
export function knownArchitectures(): string[] {
  return [...ARCHITECTURES.keys()].sort();
}
