/**
 * The HTTP side of the Node peers: a plain `http` server that answers
 * POST /v1/channels/{channel}/publish (body = data) with `{"ok":true}` after handing the
 * publication to `publish`, and 404 to anything else. WebSocket servers attach to it.
 */
import * as http from 'node:http';

const PUBLISH_PATH = /^\/v1\/channels\/([^/]+)\/publish$/;

/** Creates (does not start) the peer's http server; `publish` receives every HTTP publication. */
export function createPublishServer(publish: (channel: string, data: Buffer) => void): http.Server {
  return http.createServer((req, res) => {
    const m = PUBLISH_PATH.exec(req.url ?? '');
    if (m === null || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      publish(decodeURIComponent(m[1]!), Buffer.concat(parts));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
}
