/** Folder (from the package root) holding the built browser bundle of the client SDK. */
export const BUNDLE_DIR = 'dist/client';

/** File name of the bundle without version (served with a short cache lifetime). */
export const UNVERSIONED_NAME = 'broadcaster-client.js';

/** File name of the bundle of package version `version` (served as immutable). */
export function bundleFileName(version: string): string {
  return `broadcaster-client.${version}.js`;
}
