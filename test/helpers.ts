import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from '../core/paths.js';

/** Repository root, whether run from TS sources (vitest) or from dist/ (core/paths.ts). */
export const REPO_ROOT = repoRoot();

/** ../shared beside the repository root. Tests that need it skip when it is absent. */
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const HAS_SHARED = existsSync(resolve(SHARED, 'data'));
export const SHARED_MISSING = '../shared is absent: skipping tests that read shared data';
export function sharedPath(...parts: string[]): string {
  return resolve(SHARED, ...parts);
}
