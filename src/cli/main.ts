#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error';
import { loadConfig } from '../config/load-config';
import { planProcesses, type ProcessPlan } from '../cluster/process-plan';
import { createLogger } from '../log/logger';
import { helpText } from './help';

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(): Promise<void> {
  let request: ReturnType<typeof loadConfig>;
  try {
    request = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`broadcaster: ${err.message}\n`);
    process.exit(2);
  }
  if (request.kind === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (request.kind === 'version') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  const { options } = request;
  let plan: ProcessPlan;
  try {
    plan = planProcesses(options);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`broadcaster: ${err.message}\n`);
    process.exit(2);
  }
  if (plan.kind === 'supervisor') {
    const { runSupervisor } = await import('../cluster/run-supervisor.js');
    runSupervisor(options, plan.workers, plan.notes, process.argv.slice(2), __filename);
    return;
  }
  const bindings = plan.kind === 'worker' ? { worker: plan.index } : options.instance !== 0 ? { instance: options.instance } : {};
  const logger = createLogger(options.logLevel, bindings);
  if (plan.kind === 'single') for (const note of plan.notes) logger.info(note);
  // Loaded here, not at the top: --help and config errors must work even where uWS cannot load.
  const { BroadcasterServer } = await import('../server.js');
  const server = new BroadcasterServer(options, { logger });
  if (options.redisUrl === null && options.redisClusterNodes.length === 0) logger.info('no --redis-url: using the in-memory broker (single process)');

  let admin: import('../admin/admin-server.js').AdminServer | null = null;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals | 'supervisor gone'): void => {
    // A terminal's Ctrl-C reaches the workers and their supervisor's SIGTERM follows: stop once.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.shutdownTimeout }, 'shutdown took longer than --shutdown-timeout; exiting');
      process.exit(1);
    }, options.shutdownTimeout);
    timer.unref();
    server
      .stop()
      .then(() => admin?.close())
      .then(
        () => {
          logger.info('stopped');
          // Let the close frames leave before the process ends.
          setTimeout(() => process.exit(0), 50);
        },
        (err: Error) => {
          logger.error({ err: err.message }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The admin listener first: a taken admin port stops the process before it takes public traffic.
  if (plan.adminPort !== null) {
    const { AdminServer } = await import('../admin/admin-server.js');
    admin = new AdminServer(server, logger);
    await admin.listen(options.adminHost, plan.adminPort);
  }
  const port = await server.start();
  if (plan.kind === 'worker') {
    const { linkToSupervisor } = await import('../cluster/worker-link.js');
    linkToSupervisor(
      { port, adminPort: plan.adminPort },
      () => server.notReadyReason(),
      () => onSignal('supervisor gone'),
    );
  }
}

main().catch((err: Error) => {
  process.stderr.write(`broadcaster: ${err.message}\n`);
  process.exit(1);
});
