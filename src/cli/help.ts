import { CONFIG_ENV } from '../config/load-config';
import { OPTION_SPECS } from '../config/options';

/** Why the security defaults are what they are (docs/SECURITY.md, "Secure defaults"). */
const SECURE_DEFAULTS = [
  'Secure defaults (docs/SECURITY.md):',
  '  Clients may not publish (--client-publish empty) unless a token\'s "publish" claim grants the channel:',
  '  broadcast channels are fed by backends, and a client that may publish can spoof any feed.',
  '  Without --api-key the HTTP API answers only --trusted-networks (loopback), by the TCP peer address',
  '  (X-Forwarded-For is ignored): otherwise anyone reaching the port could publish and read history.',
  '  Anonymous clients may subscribe (public broadcast is the common case); a token key turns that off.',
  '  Each insecure setting in force is logged as a warning at start and exported as broadcaster_insecure_settings.',
];

/** Environment-only settings of the uWebSockets.js loader (read when the addon loads, before options). */
const UWS_BUILD_HELP = [
  'uWebSockets.js build (environment only):',
  '  BROADCASTER_UWS_BUILD=auto|current|legacy  auto (default) loads the current build (uWS v20.57: Node 20-25,',
  '  glibc >= 2.38), else the legacy one (uWS v20.30: Node <= 20, glibc >= 2.27); see docs/DEPLOYMENT.md, Support matrix.',
];

/** The --help text: usage, then every option with its environment variable and default, then the secure defaults. */
export function helpText(): string {
  const lines = [
    'Usage: broadcaster [options]',
    '',
    'WebSocket broadcast server. Clients connect to /ws; backends publish over HTTP, Redis or Node.',
    'Every option may also come from an environment variable or a JSON config file (--config).',
    'Precedence: flags > environment > config file > defaults.',
    '',
    'Options:',
  ];
  const rows: [string, string][] = [
    ['-h, --help', 'Print this help and exit.'],
    ['-v, --version', 'Print the version and exit.'],
    ['--config <file>', `JSON file of options, keyed by the camelCase names in README.md (e.g. "maxMessageSize"). Env: ${CONFIG_ENV}`],
  ];
  for (const spec of OPTION_SPECS) {
    const def = spec.default === null ? 'unset' : JSON.stringify(spec.default);
    rows.push([
      spec.type === 'boolean' ? `--${spec.flag}` : `--${spec.flag} <${spec.type === 'integer' ? 'n' : 'value'}>`,
      `${spec.help} Env: ${spec.env}. Default: ${def}.`,
    ]);
  }
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(width)}${text}`);
  lines.push('', ...SECURE_DEFAULTS, '', ...UWS_BUILD_HELP);
  return `${lines.join('\n')}\n`;
}
