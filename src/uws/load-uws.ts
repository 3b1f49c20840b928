/**
 * Chooses and loads a native uWebSockets.js build: the current one first, the legacy one where
 * the current one cannot load (older glibc on Node 20). Never the legacy package's pure-JS
 * fallback: the addon file is loaded directly, and what loaded must be the native API.
 */
import { existsSync } from 'node:fs';
import type { PlatformFacts } from './platform';
import { UWS_BUILDS, packageVersion, type UwsBuild, type UwsBuildId } from './uws-builds';

/** No native uWebSockets.js build could be loaded; the message says why and what works. */
export class NativeUwsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeUwsError';
  }
}

/** Which build runs, reported in the start log and the build-info metric. */
export interface LoadedUwsBuild {
  /** `current` or `legacy`. */
  readonly id: UwsBuildId;
  /** The uWS version of the package that loaded (its package.json). */
  readonly version: string;
  /** The native addon file that was loaded. */
  readonly binary: string;
  /** Node ABI and glibc of this process. */
  readonly nodeAbi: string;
  /** glibc version, or null where there is none. */
  readonly glibc: string | null;
}

/** What loading needs from outside: injectable so the choice is unit-tested without addons. */
export interface LoadUwsEnvironment {
  /** The platform facts. */
  readonly platform: PlatformFacts;
  /** BROADCASTER_UWS_BUILD: auto (default), current or legacy. */
  readonly buildChoice: string | undefined;
  /** UWS_USE_FALLBACK: set to 1/true it asks for the pure-JS fallback, which is refused. */
  readonly fallbackFlag: string | undefined;
  /** The builds to consider, in order. */
  readonly builds?: readonly UwsBuild[];
  /** Loads a native addon file (default: `require`). */
  readonly requireAddon?: (file: string) => unknown;
  /** Whether a file exists (default: `fs.existsSync`). */
  readonly exists?: (file: string) => boolean;
}

/** The values BROADCASTER_UWS_BUILD accepts. */
export const UWS_BUILD_CHOICES = ['auto', 'current', 'legacy'] as const;

/** The native API has SSLApp; the pure-JS fallback does not. */
function isNativeApi(mod: unknown): boolean {
  const api = mod as { App?: unknown; SSLApp?: unknown } | null;
  return api !== null && typeof api === 'object' && typeof api.App === 'function' && typeof api.SSLApp === 'function';
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function describePlatform(p: PlatformFacts): string {
  return `${p.platform}-${p.arch}, Node.js ${p.nodeVersion} (ABI ${p.nodeAbi}), glibc ${p.glibc ?? 'none'}`;
}

/** Loads the chosen (or first loadable) native build; throws NativeUwsError naming what works. */
export function loadUws<T>(env: LoadUwsEnvironment): { api: T; build: LoadedUwsBuild } {
  const { platform } = env;
  if (env.fallbackFlag !== undefined && /^(1|true)$/i.test(env.fallbackFlag)) {
    throw new NativeUwsError(
      'UWS_USE_FALLBACK is set, which selects the slow pure-JS uWebSockets.js fallback; unset UWS_USE_FALLBACK to run on the native addon',
    );
  }
  const choice = env.buildChoice === undefined || env.buildChoice === '' ? 'auto' : env.buildChoice;
  if (!(UWS_BUILD_CHOICES as readonly string[]).includes(choice)) {
    throw new NativeUwsError(`invalid BROADCASTER_UWS_BUILD "${choice}": set it to auto, current or legacy (or unset it)`);
  }
  const all = env.builds ?? UWS_BUILDS;
  const candidates = choice === 'auto' ? all : all.filter((b) => b.id === choice);
  const requireAddon = env.requireAddon ?? ((file: string) => require(file) as unknown);
  const exists = env.exists ?? existsSync;
  const tried: string[] = [];
  for (const build of candidates) {
    const dir = build.packageDir();
    if (dir === null) {
      tried.push(`${build.id} (${build.dependency}): not installed`);
      continue;
    }
    const binary = build.binaryPath(dir, platform.platform, platform.arch, platform.nodeAbi);
    if (!exists(binary)) {
      tried.push(`${build.id} (${build.dependency} ${packageVersion(dir)}): no addon for ${platform.platform}-${platform.arch} Node ABI ${platform.nodeAbi}`);
      continue;
    }
    let api: unknown;
    try {
      api = requireAddon(binary);
    } catch (err) {
      tried.push(`${build.id} (${build.dependency} ${packageVersion(dir)}): ${firstLine(err)}`);
      continue;
    }
    if (!isNativeApi(api)) {
      tried.push(`${build.id} (${build.dependency} ${packageVersion(dir)}): ${binary} is not the native API`);
      continue;
    }
    return {
      api: api as T,
      build: { id: build.id, version: packageVersion(dir), binary, nodeAbi: platform.nodeAbi, glibc: platform.glibc },
    };
  }
  const works = all.map((b) => `${b.id}: ${b.supports}`).join('; ');
  const forced = choice === 'auto' ? '' : ` (BROADCASTER_UWS_BUILD=${choice}; unset it to try every build)`;
  throw new NativeUwsError(
    `no native uWebSockets.js build loads on ${describePlatform(platform)}${forced}. Tried: ${tried.join('; ')}. ` +
      `Builds and where they run: ${works}. Run on one of those (e.g. Node.js 20 on an older glibc, or a newer distribution); ` +
      'the pure-JS fallback is refused because it is too slow',
  );
}
