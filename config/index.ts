// A merged, versioned view of every config/<area>.ts file. Each area file (owned by the area's
// author) exports frozen defaults carrying a `version` string. The engine stores this snapshot
// with every campaign so every numerical parameter of a label can be audited (engine rule 2).
//
// Areas are discovered at run time (every config/*.js beside this file), so a new area file is
// picked up without editing this one.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ConfigSnapshot {
  /** area name (file name without extension) → that file's exports (plain data only) */
  areas: Record<string, Record<string, unknown>>;
  /** area → its declared version string(s) */
  versions: Record<string, string[]>;
  /** sha256 of the canonical JSON of `areas`: one string naming the whole parameter set */
  sha256: string;
}

/** JSON with object keys sorted, so equal data always gives equal text (and hash). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'function' || x === undefined) continue;
      out[k] = sortKeys(x);
    }
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

function collectVersions(v: unknown, acc: string[]): void {
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'version' && typeof x === 'string') acc.push(x);
    else if (x && typeof x === 'object' && !Array.isArray(x)) collectVersions(x, acc);
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/** Every config area beside this module, loaded and merged. */
export async function loadConfigSnapshot(dir = here): Promise<ConfigSnapshot> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && !f.startsWith('index.') && !f.includes('.test.'))
    .sort();
  const areas: Record<string, Record<string, unknown>> = {};
  const versions: Record<string, string[]> = {};
  for (const f of files) {
    const area = f.slice(0, -ext.length);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(join(dir, f)).href)) as Record<string, unknown>;
    } catch (e) {
      // An area file that does not load is a fault of that area; record it rather than hide it.
      areas[area] = { loadError: e instanceof Error ? e.message : String(e) };
      versions[area] = [];
      continue;
    }
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(mod)) if (typeof v !== 'function') data[k] = sortKeys(v);
    areas[area] = data;
    const vs: string[] = [];
    collectVersions(data, vs);
    versions[area] = [...new Set(vs)];
  }
  const sha256 = createHash('sha256').update(canonicalJson(areas)).digest('hex');
  return { areas, versions, sha256 };
}
