/** A configuration value is invalid; the message names the option and what it accepts. */
export class ConfigError extends Error {
  /** Name of the offending option (camelCase, as in the config file). */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.option = option;
  }
}
