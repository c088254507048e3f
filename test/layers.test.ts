// The layer rules of shared/docs/architecture.md, checked on the import statements of every
// source file (issue #13): each layer imports only the layers below it, workflows/ only its own
// contract, and one place (core/potential) resolves potential names.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

const LAYERS = ['cli', 'bench', 'workers', 'activities', 'engine', 'workflows', 'pipeline', 'report', 'store', 'core', 'config', 'examples'] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer may import (besides itself and npm packages). */
const ALLOWED: Record<Layer, Layer[]> = {
  cli: ['engine', 'pipeline', 'report', 'store', 'core', 'config', 'examples', 'workflows'],
  bench: ['engine', 'pipeline', 'report', 'store', 'core', 'config', 'examples', 'cli'],
  workers: ['activities', 'engine', 'workflows', 'pipeline', 'store', 'core', 'config'],
  activities: ['engine', 'workflows', 'pipeline', 'store', 'core', 'config'],
  engine: ['workflows', 'pipeline', 'store', 'core', 'config'],
  // its own contract file and the Temporal workflow API only
  workflows: [],
  pipeline: ['store', 'core', 'config', 'workflows'],
  // the campaign report: reads the store, draws; its browser code (report/client) imports nothing
  report: ['store', 'core', 'config', 'pipeline'],
  store: ['core', 'config'],
  // core is the science library; config/ holds the typed defaults below it (architecture.md)
  core: ['config'],
  config: [],
  examples: ['core'],
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) {
      if (f !== 'node_modules' && f !== 'fixtures') out.push(...sources(p));
    } else if (f.endsWith('.ts') && !f.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push((m[1] ?? m[2])!);
  return out;
}

function layerOf(absPath: string): Layer | undefined {
  const top = relative(REPO_ROOT, absPath).split('/')[0];
  return (LAYERS as readonly string[]).includes(top!) ? (top as Layer) : undefined;
}

describe('layers', () => {
  const violations: string[] = [];
  for (const layer of LAYERS) {
    for (const file of sources(join(REPO_ROOT, layer))) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) {
          if (layer === 'workflows' && !spec.startsWith('@temporalio/workflow') && !spec.startsWith('@temporalio/common'))
            violations.push(`${relative(REPO_ROOT, file)} imports package '${spec}' (workflow code is bundled into the sandbox)`);
          continue;
        }
        const target = layerOf(resolve(dirname(file), spec));
        if (!target || target === layer) continue;
        if (!ALLOWED[layer].includes(target)) violations.push(`${relative(REPO_ROOT, file)} (${layer}) imports ${spec} (${target})`);
      }
    }
  }

  it('each layer imports only the layers below it', () => {
    expect(violations).toEqual([]);
  });

  it('the rule can fail: a file of cli/ importing activities/ would be reported', () => {
    const fake = join(REPO_ROOT, 'cli', 'commands', 'x.ts');
    expect(layerOf(resolve(dirname(fake), '../../activities/index.js'))).toBe('activities');
    expect(ALLOWED.cli).not.toContain('activities');
    expect(ALLOWED.cli).not.toContain('workers');
    expect(ALLOWED.core).toEqual(['config']);
    expect(ALLOWED.workflows).toEqual([]);
  });

  it('potential names are resolved in core/potential alone', () => {
    // constructing a potential by name, or testing a name against a model, anywhere else is a
    // second registry
    const offenders: string[] = [];
    const pattern = /OnnxPotential\.load\(|new PairPotential\(|pairPotential\(|===\s*'(?:lennard-jones|morse)'/;
    for (const layer of LAYERS) {
      if (layer === 'core') continue;
      for (const file of sources(join(REPO_ROOT, layer))) {
        const lines = readFileSync(file, 'utf8').split('\n');
        lines.forEach((l, i) => {
          if (pattern.test(l) && !l.trim().startsWith('//')) offenders.push(`${relative(REPO_ROOT, file)}:${i + 1}: ${l.trim()}`);
        });
      }
    }
    for (const file of sources(join(REPO_ROOT, 'core')).filter((f) => !f.includes(`${'/'}core${'/'}potential${'/'}`))) {
      const text = readFileSync(file, 'utf8');
      if (pattern.test(text)) offenders.push(relative(REPO_ROOT, file));
    }
    expect(offenders).toEqual([]);
  });
});
