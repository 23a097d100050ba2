// The checks of the numbers that source and reader factories take: a wrong one fails at once, by name.

/** Throws a TypeError naming `where` and `name` unless `value` is undefined or a finite number >= `min`. */
export function checkNumber (where: string, name: string, value: unknown, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < min)) {
    throw new TypeError(`${where}: ${name} must be a finite number >= ${min}, got ${String(value)}`)
  }
}
