// Where the package lives on disk: the nearest ancestor of this module holding package.json
// (the repository root in a checkout, the package folder when installed). One definition for
// every layer (models/, dist/, .venv/ are found from it).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function repoRoot(): string {
  if (root) return root;
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(resolve(d, 'package.json'))) return (root = d);
    const up = dirname(d);
    if (up === d) return (root = process.cwd());
    d = up;
  }
}
