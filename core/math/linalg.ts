// Small dense 3-vector / 3x3 helpers. Lattices are row vectors (Å): cart = frac · L.
export type Vec3 = [number, number, number];
export type Mat3 = [Vec3, Vec3, Vec3];

export function vec3(x: number, y: number, z: number): Vec3 {
  return [x, y, z];
}

export function dot3(a: readonly number[], b: readonly number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}

export function cross3(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

export function norm3(a: readonly number[]): number {
  return Math.sqrt(dot3(a, a));
}

export function sub3(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
}

export function add3(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[0]! + b[0]!, a[1]! + b[1]!, a[2]! + b[2]!];
}

export function scale3(a: readonly number[], s: number): Vec3 {
  return [a[0]! * s, a[1]! * s, a[2]! * s];
}

export function det3(m: readonly (readonly number[])[]): number {
  const [a, b, c] = m as [number[], number[], number[]];
  return (
    a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) -
    a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) +
    a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!)
  );
}

export function transpose3(m: readonly (readonly number[])[]): Mat3 {
  return [
    [m[0]![0]!, m[1]![0]!, m[2]![0]!],
    [m[0]![1]!, m[1]![1]!, m[2]![1]!],
    [m[0]![2]!, m[1]![2]!, m[2]![2]!],
  ];
}

export function matmul3(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): Mat3 {
  const r: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) r[i]![j] = a[i]![0]! * b[0]![j]! + a[i]![1]! * b[1]![j]! + a[i]![2]! * b[2]![j]!;
  return r;
}

/** Row vector times matrix: v · M. */
export function vecmat3(v: readonly number[], m: readonly (readonly number[])[]): Vec3 {
  return [
    v[0]! * m[0]![0]! + v[1]! * m[1]![0]! + v[2]! * m[2]![0]!,
    v[0]! * m[0]![1]! + v[1]! * m[1]![1]! + v[2]! * m[2]![1]!,
    v[0]! * m[0]![2]! + v[1]! * m[1]![2]! + v[2]! * m[2]![2]!,
  ];
}

/** Matrix times column vector: M · v. */
export function matvec3(m: readonly (readonly number[])[], v: readonly number[]): Vec3 {
  return [dot3(m[0]!, v), dot3(m[1]!, v), dot3(m[2]!, v)];
}

export function inv3(m: readonly (readonly number[])[]): Mat3 {
  const d = det3(m);
  if (d === 0 || !Number.isFinite(d)) throw new RangeError('singular 3x3 matrix');
  const [a, b, c] = m as [number[], number[], number[]];
  return [
    [(b[1]! * c[2]! - b[2]! * c[1]!) / d, (a[2]! * c[1]! - a[1]! * c[2]!) / d, (a[1]! * b[2]! - a[2]! * b[1]!) / d],
    [(b[2]! * c[0]! - b[0]! * c[2]!) / d, (a[0]! * c[2]! - a[2]! * c[0]!) / d, (a[2]! * b[0]! - a[0]! * b[2]!) / d],
    [(b[0]! * c[1]! - b[1]! * c[0]!) / d, (a[1]! * c[0]! - a[0]! * c[1]!) / d, (a[0]! * b[1]! - a[1]! * b[0]!) / d],
  ];
}

export function identity3(): Mat3 {
  return [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
}

export function copy3(m: readonly (readonly number[])[]): Mat3 {
  return [
    [m[0]![0]!, m[0]![1]!, m[0]![2]!],
    [m[1]![0]!, m[1]![1]!, m[1]![2]!],
    [m[2]![0]!, m[2]![1]!, m[2]![2]!],
  ];
}

/** Wrap a fractional coordinate into [0, 1). */
export function wrap01(x: number): number {
  const w = x - Math.floor(x);
  return w >= 1 ? 0 : w;
}
