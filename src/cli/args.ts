// Parsing of the salesreps command's options, with usage errors that point to --help.
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in how the command was called: printed with a hint to --help, exit status 2, nothing on stdout. */
export class UsageError extends Error {}

interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  default?: string;
  /** The value's placeholder in the help, e.g. SECONDS. */
  value?: string;
  description: string;
  required?: boolean;
}

/** The option values as node:util parseArgs gives them. */
type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface LeafCommand<Values> {
  /** The words that name it: ['effects', 'list']. */
  name: string[];
  summary: string;
  options: Record<string, OptionSpec>;
  /** Checks the option values and turns them into what run needs; runs before any database is opened. */
  check(values: OptionValues): Values;
  run(values: Values): Promise<void>;
}

/** A command whose checked values only its own run reads: how commands of different values share one list. */
export type Command = LeafCommand<unknown>;

export function defineCommand<Values>(command: LeafCommand<Values>): Command {
  return { ...command, run: (values) => command.run(values as Values) };
}

const HELP: OptionSpec = { type: 'boolean', description: 'show this help' };

function optionSynopsis(name: string, spec: OptionSpec): string {
  const flag = spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.value ?? 'VALUE'}`;
  const once = spec.required ? flag : `[${flag}]`;
  return spec.multiple ? `${once} [--${name} ...]` : once;
}

export function usageLine(command: LeafCommand<unknown>): string {
  const options = Object.entries(command.options).map(([name, spec]) => optionSynopsis(name, spec));
  return ['salesreps', ...command.name, ...options].join(' ');
}

/** `salesreps <command> --help`: the usage line, what it does, and every option. */
export function helpText(command: LeafCommand<unknown>): string {
  const rows = Object.entries({ ...command.options, help: HELP }).map(([name, spec]) => {
    const flag = spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.value ?? 'VALUE'}`;
    const extra = [
      spec.required ? 'required' : undefined,
      spec.multiple ? 'may be repeated' : undefined,
      spec.default !== undefined ? `default ${spec.default}` : undefined,
    ].filter(Boolean);
    return [
      name === 'help' ? `-h, ${flag}` : flag,
      `${spec.description}${extra.length ? ` (${extra.join(', ')})` : ''}`,
    ];
  });
  const width = Math.max(...rows.map(([flag]) => flag?.length ?? 0)) + 2;
  return [
    `Usage: ${usageLine(command)}`,
    '',
    command.summary,
    '',
    'Options:',
    ...rows.map(([flag = '', text = '']) => `  ${flag.padEnd(width)}${text}`),
  ].join('\n');
}

/**
 * Parses a leaf command's arguments with node:util parseArgs (strict: unknown options and stray words are usage
 * errors). Answers 'help' when --help was asked, else the checked values.
 */
export function parseCommand<Values>(command: LeafCommand<Values>, args: string[]): Values | 'help' {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = {
      type: spec.type,
      ...(spec.multiple ? { multiple: true } : {}),
      ...(spec.default !== undefined && spec.type === 'string' ? { default: spec.default } : {}),
    };
  }
  let values: OptionValues;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${message}\nUsage: ${usageLine(command)}`);
  }
  if (values.help) return 'help';
  const missing = Object.entries(command.options)
    .filter(([name, spec]) => spec.required && values[name] === undefined)
    .map(([name]) => `--${name}`);
  if (missing.length > 0) {
    throw new UsageError(`Missing ${missing.join(', ')}.\nUsage: ${usageLine(command)}`);
  }
  return command.check(values);
}
