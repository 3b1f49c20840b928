/** What a process reports about its readiness: the public port and the admin port answer the same. */
export interface ReadinessSource {
  /** Why the process should not receive traffic, or null when it is ready. */
  notReadyReason(): string | null;
  /** The broker, named in the answer. */
  readonly broker: { readonly kind: string };
}

/** The `/readyz` answer: 200 with `{status: "ready", broker}` or 503 with `{status: "not_ready", reason, broker}`. */
export interface ReadinessAnswer {
  /** True for 200, false for 503. */
  ready: boolean;
  /** The JSON body. */
  body: { status: 'ready'; broker: string } | { status: 'not_ready'; reason: string; broker: string };
}

/** The `/healthz` body: the process is alive (it answers), whatever its broker does. */
export const HEALTH_BODY = Object.freeze({ status: 'ok' });

/** Builds the `/readyz` answer of `source` (documented in docs/DEPLOYMENT.md and docs/PROTOCOL.md). */
export function readiness(source: ReadinessSource): ReadinessAnswer {
  const reason = source.notReadyReason();
  const broker = source.broker.kind;
  return reason === null ? { ready: true, body: { status: 'ready', broker } } : { ready: false, body: { status: 'not_ready', reason, broker } };
}
