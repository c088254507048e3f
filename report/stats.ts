// Binomial rates for the report: the Wilson score interval (95 %: z = 1.96), the interval the
// progress line prints (engine/campaign.ts `wilson`; test/report.test.ts checks they agree).
import type { Rate } from './types.js';

export const Z95 = 1.959963984540054;

export function wilsonRate(k: number, n: number, z = Z95): Rate {
  if (n === 0) return { k, n, p: null, lo: 0, hi: 1 };
  const p = k / n;
  const z2 = z * z;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return { k, n, p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Round for the page (the file's size): `digits` decimals. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
