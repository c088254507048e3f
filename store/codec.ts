// Step payload encoding, format 2 (issue 18 item 4: storage at 10^5). Lossless: decoding gives
// exactly the value the old format (gzip of JSON text) gave, JSON.parse(JSON.stringify(value)),
// bit for bit. What changes is how numbers are kept: every array of finite numbers is taken out
// of the JSON text and kept in binary, a row's leading values as float64 and its trailing values
// as float32 when (and only when) each of them is exactly a float32 (Math.fround(v) === v). So a
// producer that wants a plot-only array compact rounds it to float32 itself (pipeline/, where the
// meaning is known: core/stability/compact.ts), and every other number keeps all its bits.
//
// Layout: 'SMP' 0x02, then gzip of
//   u32 LE header length | header JSON | float64 stream | float32 stream
// header = { v: 2, j: the JSON value with each packed array replaced by {"\u0000": id} and each
//            array of packed rows by {"\u0001": [first id, rows]},
//            d: [n0, m0, n1, m1, ...] (length and float64 count of array id) }.
// Streams are byte-shuffled (byte 0 of every value, then byte 1, ...): the exponent and sign
// bytes of nearby values are alike and deflate keeps them in a few bits.
// Payloads written before (format 1: gzip of the JSON text, first bytes 1f 8b) stay readable.
// Format 0 ('SMP' 0x00 + JSON text) is a pruned payload's marker (store/index.ts pruneStepPayloads).
import { gunzipSync, gzipSync } from 'node:zlib';

const MAGIC = Buffer.from([0x53, 0x4d, 0x50, 0x02]); // 'SMP' 2
const MARK = '\u0000';
const MATRIX = '\u0001';
/** arrays shorter than this stay JSON text (a marker costs more than it saves) */
const MIN_PACKED = 4;

/** A pruned payload (store/index.ts pruneStepPayloads, written by SQL): 'SMP' 0x00, then JSON text. */
export const PRUNED_MAGIC = Buffer.from([0x53, 0x4d, 0x50, 0x00]);

export type PayloadFormat = 0 | 1 | 2;

/** What a pruned payload decodes to: the sha256 and size of the payload that was there. */
export interface PrunedPayload {
  pruned: { sha256: string; bytes: number; reason: string; at: string };
}

export function isPrunedPayload(v: unknown): v is PrunedPayload {
  return v !== null && typeof v === 'object' && 'pruned' in v && Object.keys(v).length === 1;
}

function finiteNumbers(v: unknown): v is number[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  }
  return true;
}

function isNumArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.length >= MIN_PACKED && finiteNumbers(v);
}

/** An array of arrays of finite numbers (rows of any length, at least MIN_PACKED numbers in all). */
function isNumMatrix(v: unknown): v is number[][] {
  if (!Array.isArray(v) || v.length === 0) return false;
  let total = 0;
  for (const row of v) {
    if (!finiteNumbers(row)) return false;
    total += row.length;
  }
  return total >= MIN_PACKED;
}

/** Count of leading values kept as float64: up to the last one that is not exactly a float32. */
function float64Count(a: readonly number[]): number {
  // (no -0 here: the value went through JSON text first)
  for (let i = a.length - 1; i >= 0; i--) if (Math.fround(a[i]!) !== a[i]!) return i + 1;
  return 0;
}

function shuffle(bytes: Uint8Array, width: number): Buffer {
  const n = bytes.length / width;
  const out = Buffer.allocUnsafe(bytes.length);
  for (let b = 0; b < width; b++) for (let i = 0; i < n; i++) out[b * n + i] = bytes[i * width + b]!;
  return out;
}

function unshuffle(bytes: Uint8Array, width: number): Uint8Array {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  for (let b = 0; b < width; b++) for (let i = 0; i < n; i++) out[i * width + b] = bytes[b * n + i]!;
  return out;
}

/** Format 1: gzip of the JSON text (payloads written before format 2; kept for tests and for values format 2 cannot hold). */
export function encodePayloadV1(value: unknown): { bytes: Buffer; rawBytes: number } {
  const raw = Buffer.from(JSON.stringify(value));
  return { bytes: gzipSync(raw, { level: 6 }), rawBytes: raw.length };
}

/** Encode a step payload (format 2). `rawBytes` is the length of its JSON text (what it means). */
export function encodePayloadV2(value: unknown): { bytes: Buffer; rawBytes: number } {
  const text = JSON.stringify(value) ?? 'null';
  let clash = false;
  // the plain JSON value: exactly what the old format kept (toJSON applied, undefined dropped, NaN → null)
  const plain: unknown = JSON.parse(text);
  const desc: number[] = [];
  const arrays: number[][] = [];
  let n64 = 0;
  let n32 = 0;
  const pack = (v: number[]): number => {
    const m = float64Count(v);
    desc.push(v.length, m);
    arrays.push(v);
    n64 += m;
    n32 += v.length - m;
    return arrays.length - 1;
  };
  const walk = (v: unknown): unknown => {
    if (isNumArray(v)) return { [MARK]: pack(v) };
    if (isNumMatrix(v)) {
      // rows of any length (q-points, a few kept modes each): consecutive ids, one marker
      const first = arrays.length;
      for (const row of v) pack(row);
      return { [MATRIX]: [first, v.length] };
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === MARK || k === MATRIX) clash = true;
        o[k] = walk(x);
      }
      return o;
    }
    return v;
  };
  const j = walk(plain);
  // an object with the marker's own key (never in a step payload) would not survive: keep format 1
  if (clash) return encodePayloadV1(value);
  const f64 = new Float64Array(n64);
  const f32 = new Float32Array(n32);
  let p64 = 0;
  let p32 = 0;
  for (let id = 0; id < arrays.length; id++) {
    const a = arrays[id]!;
    const m = desc[2 * id + 1]!;
    for (let i = 0; i < m; i++) f64[p64++] = a[i]!;
    for (let i = m; i < a.length; i++) f32[p32++] = a[i]!;
  }
  const header = Buffer.from(JSON.stringify({ v: 2, j, d: desc }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  const body = Buffer.concat([len, header, shuffle(new Uint8Array(f64.buffer), 8), shuffle(new Uint8Array(f32.buffer), 4)]);
  return { bytes: Buffer.concat([MAGIC, gzipSync(body, { level: 9 })]), rawBytes: Buffer.byteLength(text) };
}

export function payloadFormat(bytes: Uint8Array): PayloadFormat {
  if (bytes.length >= 4 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2] && bytes[3] === MAGIC[3]) return 2;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 1;
  if (bytes.length >= 4 && PRUNED_MAGIC.equals(bytes.subarray(0, 4))) return 0;
  throw new Error('step payload in an unknown format');
}

/** Decode a step payload of either format. */
export function decodeAnyPayload<T>(bytes: Buffer): T {
  const format = payloadFormat(bytes);
  if (format === 1) return JSON.parse(gunzipSync(bytes).toString('utf8')) as T;
  if (format === 0) return JSON.parse(bytes.subarray(PRUNED_MAGIC.length).toString('utf8')) as T;
  const body = gunzipSync(bytes.subarray(MAGIC.length));
  const hlen = body.readUInt32LE(0);
  const header = JSON.parse(body.subarray(4, 4 + hlen).toString('utf8')) as { v: number; j: unknown; d: number[] };
  if (header.v !== 2) throw new Error(`step payload format ${header.v} is not known to this code`);
  const d = header.d;
  let n64 = 0;
  let n32 = 0;
  for (let i = 0; i < d.length; i += 2) {
    n64 += d[i + 1]!;
    n32 += d[i]! - d[i + 1]!;
  }
  const s64 = 4 + hlen;
  const s32 = s64 + 8 * n64;
  if (s32 + 4 * n32 !== body.length) throw new Error('step payload is truncated or corrupt');
  const f64 = new Float64Array(unshuffle(body.subarray(s64, s32), 8).buffer);
  const f32 = new Float32Array(unshuffle(body.subarray(s32, s32 + 4 * n32), 4).buffer);
  // where each array's values start in the two streams
  const start64: number[] = [];
  const start32: number[] = [];
  for (let i = 0, a = 0, b = 0; i < d.length; i += 2) {
    start64.push(a);
    start32.push(b);
    a += d[i + 1]!;
    b += d[i]! - d[i + 1]!;
  }
  const unpack = (id: number): number[] => {
    const n = d[2 * id]!;
    const m = d[2 * id + 1]!;
    const out = new Array<number>(n);
    for (let i = 0; i < m; i++) out[i] = f64[start64[id]! + i]!;
    for (let i = m; i < n; i++) out[i] = f32[start32[id]! + i - m]!;
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const id = o[MARK];
      if (typeof id === 'number' && Object.keys(o).length === 1) return unpack(id);
      const mx = o[MATRIX];
      if (Array.isArray(mx) && Object.keys(o).length === 1) return Array.from({ length: mx[1] as number }, (_, i) => unpack((mx[0] as number) + i));
      for (const k of Object.keys(o)) o[k] = walk(o[k]);
      return o;
    }
    return v;
  };
  return walk(header.j) as T;
}
