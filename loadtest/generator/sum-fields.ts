/** Adds every field of `b` into the same field of `a` (records of counters) and returns `a`. */
export function sumFields<T extends { [K in keyof T]: number }>(a: T, b: T): T {
  for (const key of Object.keys(b) as Array<keyof T>) (a[key] as number) += b[key];
  return a;
}
