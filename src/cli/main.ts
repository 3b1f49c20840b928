#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error';
import { loadConfig } from '../config/load-config';
import { createLogger } from '../log/logger';
import { helpText } from './help';

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(): Promise<void> {
  let request;
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
  const logger = createLogger(options.logLevel);
  // Loaded here, not at the top: --help and config errors must work even where uWS cannot load.
  const { BroadcasterServer } = await import('../server.js');
  const server = new BroadcasterServer(options, logger);
  if (options.redisUrl === null) logger.info('no --redis-url: using the in-memory broker (single process)');

  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.shutdownTimeout }, 'shutdown took longer than --shutdown-timeout; exiting');
      process.exit(1);
    }, options.shutdownTimeout);
    timer.unref();
    server.stop().then(
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
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await server.start();
}

main().catch((err: Error) => {
  process.stderr.write(`broadcaster: ${err.message}\n`);
  process.exit(1);
});
