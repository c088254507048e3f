// The code version stored with every campaign and step result (engine rule 2): the git commit,
// with "+dirty" when the science or engine sources differ from it.
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../core/paths.js';

let cached: string | undefined;

export function codeVersion(): string {
  if (cached) return cached;
  const env = process.env['SOFTMODE_CODE_SHA'];
  if (env) return (cached = env);
  const root = repoRoot();
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return (cached = 'unknown');
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'core', 'pipeline', 'activities', 'workflows', 'workers', 'engine', 'store', 'config', 'models'], { cwd: root, encoding: 'utf8' });
  return (cached = head.stdout.trim() + (dirty.stdout.trim() ? '+dirty' : ''));
}
