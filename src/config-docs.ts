// The settings' tables (README.md, docs/operations.md) and .env.example, written from the settings' schema.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KindGuard } from '@sinclair/typebox';
import { type SettingSchema, settingGroups } from './config-schema.js';

type GroupName = keyof typeof settingGroups;

/** The files the documentation is written into, relative to the checkout. */
export const SETTINGS_DOCUMENTS = ['README.md', 'docs/operations.md', '.env.example'] as const;

const isGroupName = (name: string): name is GroupName => Object.hasOwn(settingGroups, name);

function groupNamed(name: string): GroupName {
  if (isGroupName(name)) return name;
  throw new Error(`A settings marker names no group: "${name}"`);
}

function settingsOf(groups: readonly GroupName[]): [string, SettingSchema][] {
  return groups.flatMap((group) => Object.entries<SettingSchema>(settingGroups[group].properties));
}

function defaultOf(schema: SettingSchema): string {
  if (schema.defaultText !== undefined) return schema.defaultText;
  return schema.default === undefined ? '—' : `\`${schema.default}\``;
}

function acceptedOf(schema: SettingSchema): string {
  if (schema.accepts !== undefined) return schema.accepts;
  if (KindGuard.IsInteger(schema)) return `${schema.minimum}–${schema.maximum}`;
  if (KindGuard.IsBoolean(schema)) return '`true` or `false`';
  if (KindGuard.IsUnion(schema)) {
    const values = schema.anyOf.map((option) => (KindGuard.IsLiteral(option) ? `\`${option.const}\`` : ''));
    return `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
  }
  if (schema.protocols !== undefined) {
    return `${schema.protocols.map((protocol) => `\`${protocol}//\``).join(' or ')} URL`;
  }
  return 'text';
}

function meaningOf(schema: SettingSchema): string {
  const description = schema.description ?? '';
  if (schema.requiredWhen !== undefined) return `${description}; required with \`${schema.requiredWhen}\``;
  if (schema.readWhen !== undefined) return `${description}; read with \`${schema.readWhen}\` only`;
  return description;
}

/** A Markdown table of the groups' settings, its columns padded as the formatter leaves them. */
function settingsTable(groups: readonly GroupName[]): string {
  const header = ['variable', 'default', 'accepts', 'meaning'];
  const rows = [
    header,
    ...settingsOf(groups).map(([name, schema]) => [
      `\`${name}\``,
      defaultOf(schema),
      acceptedOf(schema),
      meaningOf(schema),
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const [headerLine, ...body] = rows.map(line);
  return [headerLine, line(widths.map((width) => '-'.repeat(width))), ...body].join('\n');
}

const GENERATED =
  '<!-- written by npm run config:docs from src/config-schema.ts: edit the schema, not the table -->';
const MARKER = /(<!-- settings:start ([a-z ]+?) -->\n)[\s\S]*?(<!-- settings:end -->)/g;

/** A Markdown document with each table between its markers written anew from the schema. */
function withSettingsTables(markdown: string): string {
  return markdown.replace(MARKER, (_, start: string, names: string, end: string) => {
    const groups = names.split(' ').map(groupNamed);
    return `${start}${GENERATED}\n\n${settingsTable(groups)}\n\n${end}`;
  });
}

function wrapped(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

function exampleValue(schema: SettingSchema): string {
  if (schema.default === undefined) return '';
  const value = String(schema.default);
  return /^[\w./:-]*$/.test(value) ? value : JSON.stringify(value);
}

/** Every variable commented out, set to its default (empty when it has none), with its meaning and values. */
function envExample(): string {
  const sections = Object.values(settingGroups).map((group) => {
    const settings = Object.entries<SettingSchema>(group.properties).map(([name, schema]) => {
      const meaning = meaningOf(schema);
      const derived = schema.defaultText === undefined ? '' : ` Default: ${schema.defaultText}.`;
      const about = `${meaning.charAt(0).toUpperCase()}${meaning.slice(1)}. Accepts: ${acceptedOf(schema)}.${derived}`;
      const comment = wrapped(about, 108).map((line) => `# ${line}`);
      return [...comment, `# ${name}=${exampleValue(schema)}`].join('\n');
    });
    return [`# ## ${group.title}`, ...settings].join('\n\n');
  });
  const intro = [
    '# The environment variables of the service, each with its default. Written by `npm run config:docs` from',
    '# src/config-schema.ts; docs/operations.md says more. An empty value counts as unset.',
  ];
  return `${[intro.join('\n'), ...sections].join('\n\n')}\n`;
}

/** What each settings document should hold, given its current text (the tables' surroundings are kept). */
export function settingsDocument(file: (typeof SETTINGS_DOCUMENTS)[number], current: string): string {
  return file === '.env.example' ? envExample() : withSettingsTables(current);
}

/**
 * Writes the documents under `root`, or with `check` writes nothing and names those that differ from the schema.
 * The files that differ (or would have been rewritten) are returned.
 * @public scripts/config-docs.js calls it from the build (dist/), where knip cannot follow the import.
 */
export async function writeSettingsDocuments(root: string, check: boolean): Promise<string[]> {
  const stale: string[] = [];
  for (const file of SETTINGS_DOCUMENTS) {
    const target = path.join(root, file);
    const current = await readFile(target, 'utf8').catch(() => '');
    const expected = settingsDocument(file, current);
    if (expected === current) continue;
    stale.push(file);
    if (!check) await writeFile(target, expected);
  }
  return stale;
}
