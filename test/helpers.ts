import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, whether run from TS sources (vitest) or from dist/. */
export const REPO_ROOT = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(d, 'package.json'))) d = dirname(d);
  return d;
})();

/** ../shared beside the repository root. Tests that need it skip when it is absent. */
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const HAS_SHARED = existsSync(resolve(SHARED, 'data'));
export const SHARED_MISSING = '../shared is absent: skipping tests that read shared data';
export function sharedPath(...parts: string[]): string {
  return resolve(SHARED, ...parts);
}
