import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error';
import { parseNamespaces } from './history-policy';
import { LOG_LEVELS, OPTION_SPECS, SLOW_CONSUMER_POLICIES, defaultOptions, type OptionSpec, type Options } from './options';

/** What the command line asked for: run with options, or print help or the version. */
export type CliRequest = { kind: 'run'; options: Readonly<Options> } | { kind: 'help' } | { kind: 'version' };

/** Config file flag and its environment variable. */
export const CONFIG_FLAG = 'config';
/** Environment variable naming the JSON config file. */
export const CONFIG_ENV = 'BROADCASTER_CONFIG';

function describeAllowed(spec: OptionSpec): string {
  switch (spec.type) {
    case 'integer':
      return `an integer from ${spec.min} to ${spec.max}`;
    case 'level':
      return `one of ${LOG_LEVELS.join(', ')}`;
    case 'url':
      return 'a redis:// or rediss:// URL';
    case 'string':
      return 'a non-empty string';
    case 'policy':
      return `one of ${SLOW_CONSUMER_POLICIES.join(', ')}`;
    case 'namespaces':
      return 'prefix=size/ttl entries, comma-separated';
  }
}

function invalid(spec: OptionSpec, source: string, value: unknown): ConfigError {
  return new ConfigError(
    spec.key,
    `invalid ${spec.key} ${JSON.stringify(value)} from ${source}: set --${spec.flag} / ${spec.env} to ${describeAllowed(spec)}`,
  );
}

/** Converts and checks one raw value (string from flags/env, any JSON value from the file). */
function coerce(spec: OptionSpec, raw: unknown, source: string): Options[keyof Options] {
  switch (spec.type) {
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < (spec.min ?? -Infinity) || n > (spec.max ?? Infinity)) {
        throw invalid(spec, source, raw);
      }
      return n;
    }
    case 'level':
      if (typeof raw !== 'string' || !(LOG_LEVELS as readonly string[]).includes(raw)) throw invalid(spec, source, raw);
      return raw as Options['logLevel'];
    case 'url': {
      if (raw === null || raw === '') return null;
      if (typeof raw !== 'string') throw invalid(spec, source, raw);
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw invalid(spec, source, raw);
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw invalid(spec, source, raw);
      return raw;
    }
    case 'string':
      if (typeof raw !== 'string' || raw.length === 0) throw invalid(spec, source, raw);
      return raw;
    case 'policy':
      if (typeof raw !== 'string' || !(SLOW_CONSUMER_POLICIES as readonly string[]).includes(raw)) throw invalid(spec, source, raw);
      return raw;
    case 'namespaces':
      if (typeof raw !== 'string') throw invalid(spec, source, raw);
      parseNamespaces(raw);
      return raw;
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read config file ${path}: ${(err as Error).message}; fix --config / ${CONFIG_ENV}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('config', `config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('config', `config file ${path} must hold a JSON object of options`);
  }
  const known = new Set<string>(OPTION_SPECS.map((s) => s.key));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) {
      throw new ConfigError(key, `unknown option "${key}" in config file ${path}; known options: ${[...known].join(', ')}`);
    }
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the frozen options from defaults, then the JSON config file, then `BROADCASTER_*`
 * environment variables, then flags (later sources win). Throws ConfigError on any bad value.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliRequest {
  const flagOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    [CONFIG_FLAG]: { type: 'string' },
  };
  for (const spec of OPTION_SPECS) flagOptions[spec.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: flagOptions, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError('argv', `${(err as Error).message}; run with --help to list every option`);
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };

  const options = defaultOptions() as unknown as Record<string, unknown>;
  const configPath = (values[CONFIG_FLAG] as string | undefined) ?? env[CONFIG_ENV];
  if (configPath !== undefined && configPath !== '') {
    const file = readConfigFile(configPath);
    for (const spec of OPTION_SPECS) {
      if (spec.key in file) options[spec.key] = coerce(spec, file[spec.key], `config file ${configPath}`);
    }
  }
  for (const spec of OPTION_SPECS) {
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined) options[spec.key] = coerce(spec, fromEnv, spec.env);
    const fromFlag = values[spec.flag];
    if (typeof fromFlag === 'string') options[spec.key] = coerce(spec, fromFlag, `--${spec.flag}`);
  }
  const result = options as unknown as Options;
  const idle = result.idleTimeout;
  if (idle !== 0 && idle < 8) {
    throw new ConfigError('idleTimeout', `invalid idleTimeout ${idle}: set --idle-timeout / BROADCASTER_IDLE_TIMEOUT to 0 (off) or 8-960 seconds`);
  }
  if (result.maxBackpressure < result.maxMessageSize + 1024) {
    throw new ConfigError(
      'maxBackpressure',
      `invalid maxBackpressure ${result.maxBackpressure}: it must hold one whole message; set --max-backpressure to at least --max-message-size + 1024 (${result.maxMessageSize + 1024})`,
    );
  }
  return { kind: 'run', options: Object.freeze(result) };
}
