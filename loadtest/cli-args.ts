/**
 * Tiny typed command-line helpers shared by the load tools (on top of node:util parseArgs).
 */
import { parseArgs } from 'node:util';

/** Parsed `--name value` flags; every value is a string or boolean. */
export type Flags = Record<string, string | boolean | undefined>;

/** Parses argv against the given string flags and boolean switches; exits with usage on error. */
export function parseFlags(argv: string[], strings: readonly string[], switches: readonly string[], usage: string): Flags {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of strings) options[s] = { type: 'string' };
  for (const s of switches) options[s] = { type: 'boolean' };
  options.help = { type: 'boolean' };
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    if (values.help === true) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return values as Flags;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
}

/** A numeric flag with a default; exits with a message naming the flag when invalid. */
export function num(flags: Flags, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = flags[name];
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be a number in [${min}, ${max}], got ${String(v)}\n`);
    process.exit(2);
  }
  return n;
}

/** A string flag with a default. */
export function str(flags: Flags, name: string, def: string): string {
  const v = flags[name];
  return typeof v === 'string' ? v : def;
}

/** A string flag restricted to a set of values. */
export function oneOf<T extends string>(flags: Flags, name: string, allowed: readonly T[], def: T): T {
  const v = str(flags, name, def);
  if (!(allowed as readonly string[]).includes(v)) {
    process.stderr.write(`--${name} must be one of ${allowed.join(', ')}, got ${v}\n`);
    process.exit(2);
  }
  return v as T;
}

/** A boolean switch. */
export function bool(flags: Flags, name: string): boolean {
  return flags[name] === true;
}

/** Channel names `${prefix}0 .. ${prefix}${n-1}`. */
export function channelNames(prefix: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${prefix}${i}`);
  return out;
}
