import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { clusterNode } from './cluster-nodes';
import { ConfigError } from './config-error';
import { checkOptions } from './check-options';
import { parseNamespaces } from './history-policy';
import { patternProblem } from '../security/channel-patterns';
import { networkProblem } from '../security/trusted-networks';
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
    case 'secret':
      return 'a non-empty string';
    case 'file':
      return 'the path of a readable file';
    case 'list':
      return spec.key === 'clientSubscribe' || spec.key === 'clientPublish'
        ? 'comma-separated channel patterns: *, prefix* or exact channel names'
        : spec.key === 'allowedOrigins'
          ? 'comma-separated origins like https://example.com'
          : spec.key === 'redisClusterNodes'
            ? 'comma-separated host:port entries like 10.0.0.1:7000,10.0.0.2:7000'
            : spec.key === 'trustedNetworks'
            ? 'comma-separated CIDR networks or addresses like 127.0.0.0/8,::1,10.0.0.0/8'
            : spec.key === 'presenceNamespaces'
              ? 'comma-separated channel prefixes like chat:,room.'
              : 'comma-separated values';
    case 'choice':
      return `one of ${(spec.choices ?? []).join(', ')}`;
    case 'boolean':
      return 'true or false (the flag alone means true)';
  }
}

function coerceList(spec: OptionSpec, raw: unknown, source: string): string[] {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  if (items === null || items.some((item) => typeof item !== 'string')) throw invalid(spec, source, raw);
  const list = (items as string[]).map((item) => item.trim()).filter((item) => item.length > 0);
  for (const item of list) {
    if ((spec.key === 'clientSubscribe' || spec.key === 'clientPublish') && patternProblem(item) !== null) throw invalid(spec, source, raw);
    if (spec.key === 'allowedOrigins' && !/^https?:\/\/[^/\s]+$/.test(item)) throw invalid(spec, source, raw);
    if (spec.key === 'redisClusterNodes' && clusterNode(item) === null) throw invalid(spec, source, raw);
    if (spec.key === 'presenceNamespaces' && !/^[A-Za-z0-9_.:@=-]+$/.test(item)) throw invalid(spec, source, raw);
    const network = spec.key === 'trustedNetworks' ? networkProblem(item) : null;
    if (network !== null) throw new ConfigError(spec.key, `invalid trustedNetworks entry ${network} from ${source}: set --${spec.flag} / ${spec.env} to ${describeAllowed(spec)}`);
  }
  return list;
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
    case 'secret':
      if (raw === null || raw === '') return null;
      if (typeof raw !== 'string') throw invalid(spec, source, raw);
      return raw;
    case 'file':
      if (raw === null || raw === '') return null;
      if (typeof raw !== 'string') throw invalid(spec, source, raw);
      try {
        readFileSync(raw);
      } catch (err) {
        throw new ConfigError(spec.key, `cannot read ${spec.key} file ${raw} from ${source}: ${(err as Error).message}; set --${spec.flag} / ${spec.env} to a readable file`);
      }
      return raw;
    case 'list':
      return coerceList(spec, raw, source);
    case 'choice':
      if (typeof raw !== 'string' || !(spec.choices ?? []).includes(raw)) throw invalid(spec, source, raw);
      return raw as Options['anonymous'];
    case 'boolean':
      if (raw === true || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      throw invalid(spec, source, raw);
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
  const flagOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    [CONFIG_FLAG]: { type: 'string' },
  };
  for (const spec of OPTION_SPECS)
    flagOptions[spec.flag] = spec.type === 'list' ? { type: 'string', multiple: true } : spec.type === 'boolean' ? { type: 'boolean' } : { type: 'string' };
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: flagOptions, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new ConfigError('argv', `${(err as Error).message}; run with --help to list every option`);
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };

  const options = defaultOptions() as unknown as Record<string, unknown>;
  let fileSetAnonymous = false;
  const configPath = (values[CONFIG_FLAG] as string | undefined) ?? env[CONFIG_ENV];
  if (configPath !== undefined && configPath !== '') {
    const file = readConfigFile(configPath);
    for (const spec of OPTION_SPECS) {
      if (spec.key in file) options[spec.key] = coerce(spec, file[spec.key], `config file ${configPath}`);
    }
    for (const key of Object.keys(file)) if (key === 'anonymous') fileSetAnonymous = true;
  }
  const explicit = new Set<string>();
  for (const spec of OPTION_SPECS) {
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined) {
      options[spec.key] = coerce(spec, fromEnv, spec.env);
      explicit.add(spec.key);
    }
    const fromFlag = values[spec.flag];
    if (typeof fromFlag === 'string' || Array.isArray(fromFlag) || typeof fromFlag === 'boolean') {
      options[spec.key] = coerce(spec, Array.isArray(fromFlag) ? fromFlag.join(',') : fromFlag, `--${spec.flag}`);
      explicit.add(spec.key);
    }
  }
  if (fileSetAnonymous) explicit.add('anonymous');
  const result = checkOptions(options as unknown as Options, explicit);
  return { kind: 'run', options: Object.freeze(result) };
}
