// Builds the browser bundle of the client SDK (src/client) with esbuild: one minified ESM file,
// dist/client/broadcaster-client.js and a copy named with the package version, which the
// server serves at /client/ (src/http/client-bundle-route.ts). Run by `npm run build`.
import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DEMO_DIR } from '../src/demo/demo-routes';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleFileName, BUNDLE_DIR, UNVERSIONED_NAME } from '../src/http/client-bundle-files';

const root = join(__dirname, '..', '..');

/** The browser has a global WebSocket: leave the Node `ws` fallback out of the bundle. */
const browserWebSocket: Plugin = {
  name: 'browser-websocket',
  setup(b) {
    b.onResolve({ filter: /\/default-websocket$/ }, (args) => ({ path: join(args.resolveDir, 'default-websocket.browser.ts') }));
  },
};

async function main(): Promise<void> {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const result = await build({
    entryPoints: [join(root, 'src', 'client', 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    legalComments: 'none',
    banner: { js: `/* broadcaster client ${version} (MIT) */` },
    plugins: [browserWebSocket],
  });
  const code = result.outputFiles[0]!.contents;
  const dir = join(root, BUNDLE_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, UNVERSIONED_NAME), code);
  writeFileSync(join(dir, bundleFileName(version)), code);
  await buildDemo();
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(`client bundle ${BUNDLE_DIR}/${bundleFileName(version)}: ${(code.length / 1024).toFixed(1)} KB minified, ${(gz / 1024).toFixed(1)} KB gzip -9`);
}

/** The demo page (demo/): its script bundled with the SDK import left to the served bundle, and its HTML. */
async function buildDemo(): Promise<void> {
  const dir = join(root, DEMO_DIR);
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(root, 'demo', 'demo-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    external: ['/client/*'],
    outfile: join(dir, 'demo.js'),
    legalComments: 'none',
  });
  copyFileSync(join(root, 'demo', 'index.html'), join(dir, 'index.html'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
