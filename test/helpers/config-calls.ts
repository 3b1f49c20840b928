import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error';
import { loadConfig } from '../../src/config/load-config';
import type { Options } from '../../src/config/options';

/** Loads a configuration that must run, and gives its options. */
export function configRun(argv: string[], env: NodeJS.ProcessEnv = {}): Readonly<Options> {
  const request = loadConfig(argv, env);
  assert.equal(request.kind, 'run');
  return (request as { options: Readonly<Options> }).options;
}

/** Asserts that loading is refused with a ConfigError naming `option`, with exactly `message` (a string) or a message matching it (a pattern). */
export function configRefused(argv: string[], env: NodeJS.ProcessEnv, option: string, message: string | RegExp): void {
  assert.throws(
    () => loadConfig(argv, env),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.name === 'ConfigError' &&
      err.option === option &&
      (typeof message === 'string' ? err.message === message : message.test(err.message)),
  );
}
