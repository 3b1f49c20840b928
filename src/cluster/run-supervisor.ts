import type { Options } from '../config/options';
import { createLogger } from '../log/logger';
import { Supervisor } from './supervisor';

/**
 * Runs this process as the supervisor of `workers` forked copies of the CLI (same arguments):
 * SIGTERM/SIGINT drain every worker then exit 0 (1 if one failed to stop cleanly), SIGHUP
 * replaces the workers one at a time.
 */
export function runSupervisor(options: Readonly<Options>, workers: number, notes: readonly string[], argv: readonly string[], script: string): Supervisor {
  const logger = createLogger(options.logLevel, { role: 'supervisor' });
  for (const note of notes) logger.info(note);
  const supervisor = new Supervisor({ workers, script, args: argv, logger, shutdownTimeout: options.shutdownTimeout });
  const onStop = (signal: NodeJS.Signals): void => {
    supervisor.stop(signal).then((code) => process.exit(code));
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'rolling restart requested');
    void supervisor.rollingRestart();
  });
  supervisor.start();
  return supervisor;
}
