import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { HEALTH_BODY, readiness } from '../http/readiness';
import type { Logger } from '../log/logger';
import { Failures, type HttpFailure } from '../protocol/errors';
import { createMetricsRegistry, type MetricsSource } from './metrics';

/** The admin listener could not start; the message names the option to change. */
export class AdminListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminListenError';
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function fail(res: ServerResponse, failure: HttpFailure, message: string): void {
  json(res, failure.status, { error: failure.error, message });
}

/**
 * The per-process admin listener (node:http, 127.0.0.1 by default): GET /metrics (Prometheus
 * text), /healthz and /readyz with the same answers as the public port.
 */
export class AdminServer {
  private readonly http: Server;
  private readonly registry: Registry;

  constructor(private readonly source: MetricsSource, private readonly logger: Logger) {
    this.registry = createMetricsRegistry(source);
    this.http = createServer((req, res) => this.handle(req, res));
    this.http.keepAliveTimeout = 5000;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
      fail(res, Failures.notFound.http, `no admin route ${path}; use /metrics, /healthz or /readyz`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET');
      fail(res, Failures.methodNotAllowed.http, `${req.method} is not allowed here; use GET`);
      return;
    }
    if (path === '/healthz') {
      json(res, 200, HEALTH_BODY);
      return;
    }
    if (path === '/readyz') {
      const answer = readiness(this.source);
      json(res, answer.ready ? 200 : 503, answer.body);
      return;
    }
    this.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': this.registry.contentType });
        res.end(text);
      },
      (err: Error) => {
        this.logger.error({ err: err.message }, 'metrics collection failed');
        fail(res, Failures.metricsFailed.http, err.message);
      },
    );
  }

  /** Listens on host:port and resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new AdminListenError(`cannot listen for admin requests on ${host}:${port}: ${err.code ?? err.message}; choose another --admin-port / --admin-host (each process uses --admin-port + its worker or instance number), or --admin-port 0 to disable`));
      };
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        const bound = (this.http.address() as AddressInfo).port;
        this.logger.info({ host, port: bound }, 'admin listening');
        resolve(bound);
      });
    });
  }

  /** Stops listening and closes idle keep-alive connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.http.close(() => resolve());
      this.http.closeIdleConnections();
    });
  }
}
