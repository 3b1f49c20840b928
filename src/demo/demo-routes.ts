import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpResponse, TemplatedApp } from '../uws/uws';

/** Folder (from the package root) of the built demo page: index.html and demo.js. */
export const DEMO_DIR = 'dist/demo';

const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

function file(name: string): Buffer | null {
  try {
    return readFileSync(join(PACKAGE_ROOT, DEMO_DIR, name));
  } catch {
    return null;
  }
}

function serve(body: Buffer | null, type: string) {
  return (res: HttpResponse): void => {
    res.cork(() => {
      if (body === null) {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'not_found', message: `the demo page is not built (${DEMO_DIR}): run npm run build` }));
        return;
      }
      res.writeStatus('200 OK').writeHeader('Content-Type', type).writeHeader('Cache-Control', 'no-cache').writeHeader('X-Content-Type-Options', 'nosniff');
      res.end(body);
    });
  };
}

/** Serves the demo page (--demo): `GET /demo` (HTML) and `GET /demo/demo.js` (its script, which imports the served SDK bundle). */
export function registerDemoRoutes(app: TemplatedApp): void {
  const html = serve(file('index.html'), 'text/html; charset=utf-8');
  app.get('/demo', html);
  app.get('/demo/', html);
  app.get('/demo/demo.js', serve(file('demo.js'), 'text/javascript; charset=utf-8'));
}
