/** Facts about the running platform that decide which native uWebSockets.js build can load. */

/** Platform, arch, Node version and ABI, and the C library's version. */
export interface PlatformFacts {
  /** `process.platform`. */
  readonly platform: string;
  /** `process.arch`. */
  readonly arch: string;
  /** `process.version`. */
  readonly nodeVersion: string;
  /** `process.versions.modules`: the ABI a native addon must be built for. */
  readonly nodeAbi: string;
  /** The glibc version at run time ("2.36"), or null where there is none (macOS, musl, Windows). */
  readonly glibc: string | null;
}

/** Reads the facts of this process. */
export function currentPlatform(): PlatformFacts {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return {
    platform: process.platform,
    arch: process.arch,
    nodeVersion: process.version,
    nodeAbi: process.versions.modules,
    glibc: header?.glibcVersionRuntime ?? null,
  };
}
