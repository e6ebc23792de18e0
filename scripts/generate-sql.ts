// Writes the SQL of every statement shape the admin's list compiles to a checked-in file, or checks that file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CompiledStatement } from '../src/db/compiled-statements.js';
import { offlineCompiler } from '../src/db/compiled-statements.js';
import type { Tables } from '../src/db/schema.js';
import { SEARCH_MODES } from '../src/kernel/search.js';
import type { SortDirection } from '../src/kernel/sort-direction.js';
import {
  countedPageStatements,
  countStatements,
  type FilterShape,
  filteredPageShape,
  filteredPageStatements,
} from '../src/salesreps/listing/filtered-statements.js';
import {
  boundaryStatements,
  pageStatements,
  versionStatements,
} from '../src/salesreps/listing/unfiltered-statements.js';
import { PAGE_WAYS } from '../src/salesreps/listing/way.js';
import { SORT_FIELDS } from '../src/salesreps/schemas.js';

/*
 * `npm run sql:generate` writes src/salesreps/listing/statements.sql; `npm run sql:check` (CI) fails when the file
 * differs from what the code compiles, so that a change to the SQL is seen in review. No database is needed: the
 * statements are compiled as PostgreSQL, as every database here compiles them.
 */

const { values: options } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

// This file runs compiled, from dist/.scripts/scripts/ in the checkout.
const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUTPUT = 'src/salesreps/listing/statements.sql';

const DIRECTIONS: readonly SortDirection[] = ['asc', 'desc'];
/**
 * The filters a filtered statement can have: a search (each way it compares), the active flag, or both (none is the
 * unfiltered list).
 */
const FILTERS: readonly FilterShape[] = [false, true].flatMap((active) => [
  ...(active ? [{ search: false as const, crossing: false, active }] : []),
  ...SEARCH_MODES.flatMap((search) =>
    // Only a trigram search compares its keys, so only it has two ways (a text with a space or not).
    (search === 'trigrams' ? [false, true] : [false]).map((crossing) => ({ search, crossing, active })),
  ),
]);

/** The statement's SQL with its lines' common indentation and trailing spaces taken off, and blank lines. */
function layOut(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
  const indentation = Math.min(...lines.map((line) => line.length - line.trimStart().length));
  return lines.map((line) => line.slice(indentation)).join('\n');
}

/** Each placeholder with the parameters it fills, in the order of first use: `organizationId $1 $4; limit $2`. */
function placeholders(statement: CompiledStatement<unknown>): string {
  const positions = new Map<string, string[]>();
  statement.names.forEach((name, index) => {
    positions.set(name, [...(positions.get(name) ?? []), `$${index + 1}`]);
  });
  return [...positions].map(([name, used]) => `${name} ${used.join(' ')}`).join('; ');
}

function section(title: string, statement: CompiledStatement<unknown>): string {
  return `-- ${title}\n-- ${placeholders(statement)}\n${layOut(statement.sql)};\n`;
}

function render(): string {
  const db = offlineCompiler<Tables>();
  const sections: string[] = [];
  for (const sortOn of SORT_FIELDS) {
    for (const sortDirection of DIRECTIONS) {
      for (const seek of [false, true]) {
        sections.push(
          section(
            `unfiltered page: ${sortOn} ${sortDirection}, ${seek ? 'from a page boundary' : 'from the first row'}`,
            pageStatements.get(db, { sortOn, sortDirection, seek }),
          ),
        );
      }
    }
  }
  for (const sortOn of SORT_FIELDS) {
    sections.push(section(`page boundaries: ${sortOn}`, boundaryStatements.get(db, sortOn)));
  }
  sections.push(section('assignment version', versionStatements.get(db, 'version')));
  for (const filter of FILTERS) {
    // A search that reads rows is counted with its first page (below).
    const search = filter.search;
    if (search === 'trigrams' || search === 'keys') continue;
    sections.push(
      section(`filtered count: ${filterName(filter)}`, countStatements.get(db, { ...filter, search })),
    );
  }
  for (const filter of FILTERS) {
    // Without a search, every way is the walk: one statement, not three.
    const ways = filter.search ? PAGE_WAYS : PAGE_WAYS.filter((way) => way === 'walk');
    for (const sortOn of SORT_FIELDS) {
      for (const sortDirection of DIRECTIONS) {
        for (const way of ways) {
          for (const countWhenChanged of [true, false]) {
            const shape = filteredPageShape(filter, { sortOn, sortDirection }, { way, countWhenChanged });
            sections.push(
              section(
                `filtered page: ${filterName(filter)}; ${sortOn} ${sortDirection}; ${way}; ${countWhenChanged ? 'counts when the known total is stale' : 'known total only'}`,
                filteredPageStatements.get(db, shape),
              ),
            );
          }
        }
      }
    }
  }
  for (const filter of FILTERS) {
    const search = filter.search;
    if (!search || search === 'prefix') continue;
    for (const sortOn of SORT_FIELDS) {
      for (const sortDirection of DIRECTIONS) {
        sections.push(
          section(
            `counted page (a first search): ${filterName(filter)}; ${sortOn} ${sortDirection}`,
            countedPageStatements.get(db, { ...filter, search, sortOn, sortDirection }),
          ),
        );
      }
    }
  }
  return [
    '-- Generated by `npm run sql:generate` (scripts/generate-sql.ts): do not edit; CI checks it (`npm run sql:check`).',
    "-- Every statement shape the admin's list (src/salesreps/listing/) compiles, each placeholder with its parameters.",
    '',
    sections.join('\n'),
  ].join('\n');
}

function filterName(filter: FilterShape): string {
  const search =
    filter.search && `search (${filter.search}${filter.crossing ? ', a text with a space' : ''})`;
  return [search || '', filter.active ? 'active' : ''].filter(Boolean).join(' and ');
}

const file = path.join(checkout, OUTPUT);
const text = render();
if (options.check) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(`${OUTPUT} is out of date: run npm run sql:generate and commit it\n`);
    process.exit(1);
  }
} else {
  fs.writeFileSync(file, text);
}
