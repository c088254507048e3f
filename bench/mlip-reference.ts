// The PyTorch reference of an exported model, for bench/mlip-parity.ts and bench/mlip-speed.ts:
// CHGNet's scripts in tools/.venv, or what the model's manifest names in `pytorch_reference`
// (the matgl models: tools/export/matgl_parity.py / matgl_speed.py in tools/.venv-matgl, made by
// tools/export/ensure-matgl-venv.sh).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../core/paths.js';

const root = repoRoot();

export interface PytorchReference {
  /** interpreter, relative to the repository */
  python: string;
  /** script that makes the interpreter's environment and prints its python (optional) */
  ensure?: string;
  parity: string;
  speed?: string;
  /** arguments every script call gets (e.g. --model NAME) */
  args: string[];
  label: string;
}

export function pytorchReference(model: string): PytorchReference {
  const manifest = JSON.parse(readFileSync(join(root, 'models', model, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const r = manifest['pytorch_reference'] as Partial<PytorchReference> | undefined;
  if (r && typeof r.python === 'string' && typeof r.parity === 'string')
    return {
      python: r.python,
      parity: r.parity,
      args: r.args ?? [],
      label: r.label ?? model,
      ...(r.ensure ? { ensure: r.ensure } : {}),
      ...(r.speed ? { speed: r.speed } : {}),
    };
  if (model !== 'chgnet-0.3.0') throw new Error(`models/${model}/manifest.json names no pytorch_reference`);
  return { python: 'tools/.venv/bin/python', parity: 'tools/export/chgnet_parity.py', speed: 'tools/export/chgnet_speed.py', args: [], label: 'PyTorch CHGNet' };
}

/** CHGNet's environment: tools/.venv with tools/requirements.txt. */
function ensureChgnetPython(): string {
  const venv = join(root, 'tools/.venv');
  const py = join(venv, 'bin/python');
  if (!existsSync(py)) {
    console.log('creating tools/.venv and installing tools/requirements.txt ...');
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  }
  try {
    execFileSync(py, ['-c', 'import chgnet, torch, ase, pymatgen'], { stdio: 'ignore' });
  } catch {
    execFileSync(py, ['-m', 'pip', 'install', '-q', '-r', join(root, 'tools/requirements.txt')], { stdio: 'inherit' });
  }
  return py;
}

/** The reference's python, made ready (its environment created and filled when absent). */
export function referencePython(ref: PytorchReference): string {
  if (!ref.ensure) return ensureChgnetPython();
  return execFileSync(join(root, ref.ensure), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
