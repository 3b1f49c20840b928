/** V8 flag that caps one semi-space of the young generation, in MB. */
export const SEMI_SPACE_FLAG = '--max-semi-space-size';

/** The young-generation cap workers get unless the operator chose one (docs/DEPLOYMENT.md, Sizing). */
export const WORKER_SEMI_SPACE_MB = 2;

/**
 * Node flags for a forked worker: the supervisor's own flags, plus the young-generation cap
 * when neither those flags nor NODE_OPTIONS set one. A burst of handshakes otherwise grows the
 * young generation to 16 MB per semi-space and leaves it resident.
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const chosen = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => a === SEMI_SPACE_FLAG || a.startsWith(`${SEMI_SPACE_FLAG}=`));
  return chosen ? [...execArgv] : [...execArgv, `${SEMI_SPACE_FLAG}=${WORKER_SEMI_SPACE_MB}`];
}
