/**
 * The uWebSockets.js builds broadcaster can run on, newest first, and where each keeps its
 * native addons. Both are npm packages; the official GitHub release has the `current` layout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Which build: `current` (uWS v20.57 line, Node 20-25, glibc >= 2.38) or `legacy` (v20.30, Node <= 20, glibc >= 2.27). */
export type UwsBuildId = 'current' | 'legacy';

/** One installable uWebSockets.js build. */
export interface UwsBuild {
  /** Short name used in logs, metrics and BROADCASTER_UWS_BUILD. */
  readonly id: UwsBuildId;
  /** The dependency name it is installed under (package.json). */
  readonly dependency: string;
  /** Where it runs, for error messages. */
  readonly supports: string;
  /** The package directory, or null when the package is not installed. */
  packageDir(): string | null;
  /** Path of the native addon for a platform, arch and Node ABI inside `packageDir`. */
  binaryPath(packageDir: string, platform: string, arch: string, abi: string): string;
}

function resolveDir(request: string): string | null {
  try {
    return dirname(require.resolve(request));
  } catch {
    return null;
  }
}

/** The builds in the order `auto` tries them. */
export const UWS_BUILDS: readonly UwsBuild[] = [
  {
    id: 'current',
    dependency: 'uWebSockets.js',
    supports: 'Node.js 20, 22, 24 or 25 on Linux with glibc >= 2.38 (Ubuntu 24.04, Debian 13, RHEL 10), macOS or Windows',
    // The package's `exports` map hides package.json; its main file sits beside the addons.
    packageDir: () => resolveDir('uWebSockets.js'),
    binaryPath: (dir, platform, arch, abi) => join(dir, `uws_${platform}_${arch}_${abi}.node`),
  },
  {
    id: 'legacy',
    dependency: 'uws-legacy',
    supports: 'Node.js 20 (or 16, 18) on Linux with glibc >= 2.27 (Debian 12, Ubuntu 22.04, RHEL 9) or macOS',
    packageDir: () => resolveDir('uws-legacy/package.json'),
    binaryPath: (dir, platform, arch, abi) => join(dir, 'binaries', `uws_${platform}_${arch}_${abi}.node`),
  },
];

/** The version in a package directory's package.json ("unknown" when unreadable). */
export function packageVersion(packageDir: string): string {
  const file = join(packageDir, 'package.json');
  if (!existsSync(file)) return 'unknown';
  try {
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
