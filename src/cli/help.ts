import { CONFIG_ENV } from '../config/load-config';
import { OPTION_SPECS } from '../config/options';

/** The --help text: usage, then every option with its environment variable and default. */
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
    rows.push([`--${spec.flag} <${spec.type === 'integer' ? 'n' : 'value'}>`, `${spec.help} Env: ${spec.env}. Default: ${def}.`]);
  }
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(width)}${text}`);
  return `${lines.join('\n')}\n`;
}
