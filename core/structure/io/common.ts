// Helpers shared by the structure readers: strict number parsing, element symbols, guards.
import { StructureError, type StructureErrorCode } from '../../errors.js';
import { atomicNumber } from '../elements.js';
import { VALIDATION } from '../../../config/validation.js';

/** Where in the input a problem is (file/source name, line, block, frame). */
export interface SourceContext {
  source?: string | undefined;
  line?: number | undefined;
  block?: string | undefined;
  frame?: number | undefined;
}

export function where(ctx: SourceContext): string {
  const parts: string[] = [];
  if (ctx.source) parts.push(ctx.source);
  if (ctx.block !== undefined) parts.push(`data_${ctx.block}`);
  if (ctx.frame !== undefined) parts.push(`frame ${ctx.frame}`);
  if (ctx.line !== undefined) parts.push(`line ${ctx.line}`);
  return parts.length ? parts.join(', ') + ': ' : '';
}

/** A StructureError located in the input (source, line, block, frame). */
export function inputError(code: StructureErrorCode, ctx: SourceContext, message: string, detail?: Record<string, unknown>): StructureError {
  return new StructureError(code, where(ctx) + message, { ...ctxDetail(ctx), ...(detail ?? {}) });
}

function ctxDetail(ctx: SourceContext): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (ctx.source !== undefined) d['source'] = ctx.source;
  if (ctx.line !== undefined) d['line'] = ctx.line;
  if (ctx.block !== undefined) d['block'] = ctx.block;
  if (ctx.frame !== undefined) d['frame'] = ctx.frame;
  return d;
}

// Decimal or exponent notation; Fortran 'D' exponents as written by old VASP tools.
const REAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;

/**
 * Parse a real number strictly (the whole token). NaN/Inf spellings and overflow give
 * `non_finite`; anything else that is not a number gives `unparsable`.
 */
export function parseReal(token: string | undefined, ctx: SourceContext, what: string): number {
  if (token === undefined) throw inputError('unparsable', ctx, `missing ${what}`);
  if (REAL_RE.test(token)) {
    let v = Number(token);
    if (Number.isNaN(v)) v = Number(token.replace(/[dD]/, 'e')); // Fortran exponent
    if (!Number.isFinite(v)) throw inputError('non_finite', ctx, `${what} '${clip(token)}' overflows`);
    return v;
  }
  if (NON_FINITE_RE.test(token)) throw inputError('non_finite', ctx, `${what} is '${clip(token)}'`);
  throw inputError('unparsable', ctx, `${what} '${clip(token)}' is not a number`);
}

/** Non-negative integer token (counts). */
export function parseCount(token: string | undefined, ctx: SourceContext, what: string): number {
  if (token === undefined || !/^\+?\d+$/.test(token)) throw inputError('unparsable', ctx, `${what} '${clip(token ?? '')}' is not a non-negative integer`);
  const v = Number(token);
  if (!Number.isSafeInteger(v)) throw inputError('too_many_atoms', ctx, `${what} ${clip(token)} is absurdly large`);
  return v;
}

/** Throw `too_many_atoms` if a claimed atom count exceeds the read ceiling (before allocating). */
export function checkAtomCount(n: number, ctx: SourceContext, limit = VALIDATION.maxAtomsRead): void {
  if (n > limit) throw inputError('too_many_atoms', ctx, `${n} atoms claimed; the reader's limit is ${limit}`, { atoms: n, limit });
}

export function clip(s: string, n = 40): string {
  const t = s.length > n ? s.slice(0, n) + '…' : s;
  // keep messages printable whatever the input was
  return t.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');
}

/**
 * The IUPAC names of elements 113-118 (2016), which the element table (phonopy's) still spells
 * with systematic names (Uut … Uuo): Og is element 118, a real element. Whether a structure with
 * it can be computed is the model's decision (validation), not the reader's.
 */
const IUPAC_2016: Readonly<Record<string, number>> = { Nh: 113, Fl: 114, Mc: 115, Lv: 116, Ts: 117, Og: 118 };

function iupacNumber(symbol: string): number | undefined {
  if (symbol.length !== 2) return undefined;
  return IUPAC_2016[symbol[0]!.toUpperCase() + symbol[1]!.toLowerCase()];
}

/**
 * Atomic number of an element symbol as written in a structure file. `loose` allows
 * decorations after the symbol (charges 'Fe2+', labels 'Fe1', POTCAR suffixes 'Fe_pv'):
 * the leading letters are tried as a two-letter, then a one-letter symbol.
 */
export function elementNumber(raw: string, ctx: SourceContext, loose: boolean): number {
  const s = raw.trim();
  const exact = atomicNumber(s) ?? iupacNumber(s);
  if (exact !== undefined && /^[A-Za-z]{1,3}$/.test(s)) return exact;
  if (loose) {
    const m = /^([A-Za-z]+)/.exec(s);
    if (m) {
      const letters = m[1]!;
      const whole = letters.length <= 2 ? (atomicNumber(letters) ?? iupacNumber(letters)) : undefined;
      if (whole !== undefined) return whole;
      if (letters.length >= 2) {
        const two = atomicNumber(letters.slice(0, 2));
        if (two !== undefined && letters[1] === letters[1]!.toLowerCase()) return two;
      }
      const one = atomicNumber(letters.slice(0, 1));
      if (one !== undefined) return one;
    }
  }
  throw inputError('unknown_element', ctx, `unknown element '${clip(s)}'`, { symbol: clip(s) });
}

/**
 * Refuse text that is not a text structure file: over the size limit, NUL bytes, or a
 * high share of control / undecodable characters in its head.
 */
export function checkText(text: string, ctx: SourceContext): void {
  if (text.length > VALIDATION.maxFileBytes)
    throw inputError('file_too_large', ctx, `input has ${text.length} characters; the limit is ${VALIDATION.maxFileBytes}`);
  const head = text.length > 65536 ? text.slice(0, 65536) : text;
  let bad = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c === 0) throw inputError('unparsable', ctx, 'binary data (NUL bytes): not a text structure file');
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11) || c === 0xfffd || (c >= 0x7f && c < 0xa0)) bad++;
  }
  if (head.length > 0 && bad / head.length > 0.02)
    throw inputError('unparsable', ctx, `binary data (${bad} control or undecodable characters in the first ${head.length}): not a text structure file`);
}

/** Split into lines, accepting \n, \r\n and \r. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

/** Shortest decimal text that reads back to the same double (exact round trips). */
export function fmt(x: number): string {
  if (Object.is(x, -0)) return '0';
  return String(x);
}
