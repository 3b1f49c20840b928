import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../uws/uws';
import { BUNDLE_DIR, bundleFileName, UNVERSIONED_NAME } from './client-bundle-files';

/** Cache-Control of the versioned bundle: its content never changes. */
export const VERSIONED_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** Cache-Control of the unversioned bundle: it changes with each release. */
export const UNVERSIONED_CACHE_CONTROL = 'public, max-age=300';

/** The package root, from dist/src/http. */
const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

interface Bundle {
  body: Buffer;
  etag: string;
}

function readBundle(): Bundle | null {
  try {
    const body = readFileSync(join(PACKAGE_ROOT, BUNDLE_DIR, UNVERSIONED_NAME));
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  } catch {
    return null;
  }
}

function serve(bundle: Bundle | null, cacheControl: string) {
  return (res: HttpResponse, req: HttpRequest): void => {
    if (bundle === null) {
      res.cork(() => {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'not_found', message: `the client bundle is not built (${BUNDLE_DIR}/${UNVERSIONED_NAME}): run npm run build` }));
      });
      return;
    }
    const notModified = req.getHeader('if-none-match') === bundle.etag;
    res.cork(() => {
      res.writeStatus(notModified ? '304 Not Modified' : '200 OK');
      res.writeHeader('Cache-Control', cacheControl).writeHeader('ETag', bundle.etag);
      if (notModified) {
        res.end();
        return;
      }
      res.writeHeader('Content-Type', 'text/javascript; charset=utf-8').writeHeader('X-Content-Type-Options', 'nosniff');
      // A public static file: pages on other origins may import it as an ES module.
      res.writeHeader('Access-Control-Allow-Origin', '*');
      res.end(bundle.body);
    });
  };
}

/**
 * Serves the browser SDK bundle (built by `npm run build`) read once at start:
 * `GET /client/broadcaster-client.<version>.js` (immutable) and `GET /client/broadcaster-client.js`
 * (5-minute cache), both `text/javascript` with an ETag.
 */
export function registerClientBundleRoute(app: TemplatedApp): void {
  const version = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const bundle = readBundle();
  app.get(`/client/${bundleFileName(version)}`, serve(bundle, VERSIONED_CACHE_CONTROL));
  app.get(`/client/${UNVERSIONED_NAME}`, serve(bundle, UNVERSIONED_CACHE_CONTROL));
}
