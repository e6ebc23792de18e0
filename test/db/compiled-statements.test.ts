import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompiledStatement,
  offlineCompiler,
  placeholder,
  StatementsByShape,
} from '../../src/db/compiled-statements.js';
import type { Tables } from '../../src/db/schema.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';

/*
 * The compiled-statement helper (src/db/compiled-statements.ts): a statement compiled once per shape with named
 * placeholders, each run binding its own values.
 */

const compiler = offlineCompiler<Tables>();

/** Organizations by name and identity organization, the name's placeholder used twice. */
function organizationsStatement() {
  const name = placeholder<string>('name');
  return new CompiledStatement<{ id: string }>(
    compiler
      .selectFrom('organization')
      .select('id')
      .where((eb) =>
        eb.or([
          eb('name', '=', name),
          eb.and([
            eb('identity_organization_id', '=', placeholder<string>('identity')),
            eb('id', '<>', name),
          ]),
        ]),
      )
      .compile(),
  );
}

describe('binding a compiled statement', () => {
  it('puts each value in the place of every placeholder of its name, in the order of the parameters', () => {
    const statement = organizationsStatement();
    expect(statement.names).toEqual(['name', 'identity', 'name']);
    const bound = statement.bind({ identity: 'idp-1', name: 'Acme' });
    expect(bound.sql).toBe(statement.sql);
    expect(bound.parameters).toEqual(['Acme', 'idp-1', 'Acme']);
  });

  it('binds null as a value, for SQL NULL', () => {
    const statement = new CompiledStatement(
      sql`select ${placeholder<string | null>('known')}::int as known`.compile(compiler),
    );
    expect(statement.bind({ known: null }).parameters).toEqual([null]);
  });

  it('refuses a run that leaves a placeholder without a value', () => {
    const statement = organizationsStatement();
    expect(() => statement.bind({ name: 'Acme' })).toThrow('No value for the placeholder "identity"');
    expect(() => statement.bind({ name: 'Acme', identity: undefined })).toThrow(
      'No value for the placeholder "identity"',
    );
  });

  it('refuses a value that has no placeholder in the statement', () => {
    const statement = organizationsStatement();
    expect(() => statement.bind({ name: 'Acme', identity: 'idp-1', limit: 10 })).toThrow(
      'The statement has no placeholder "limit"',
    );
  });

  it('refuses to compile a statement with a constant parameter, which no run could change', () => {
    const query = compiler.selectFrom('organization').select('id').where('name', '=', 'Acme').compile();
    expect(() => new CompiledStatement(query)).toThrow('Parameter $1 of a compiled statement is a constant');
  });
});

describe('statements by shape', () => {
  it('builds and compiles each shape once, and the same shape again never', () => {
    const built: string[] = [];
    const statements = new StatementsByShape<Tables, { descending: boolean }, { id: string }>(
      (shape) => String(shape.descending),
      (shape, db) => {
        built.push(String(shape.descending));
        return db
          .selectFrom('organization')
          .select('id')
          .where('name', '=', placeholder<string>('name'))
          .orderBy('id', shape.descending ? 'desc' : 'asc');
      },
    );
    const first = statements.get(compiler, { descending: false });
    expect(statements.get(compiler, { descending: false })).toBe(first);
    const descending = statements.get(compiler, { descending: true });
    expect(statements.get(compiler, { descending: true })).toBe(descending);
    expect(built).toEqual(['false', 'true']);
    expect(first.sql).toMatch(/order by "id" asc$/);
    expect(descending.sql).toMatch(/order by "id" desc$/);
  });
});

describe.each(databaseKinds)('compiled statements run on %s', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    await database.db
      .insertInto('organization')
      .values([
        { id: 'org-a', name: 'Acme', identity_organization_id: 'idp-a' },
        { id: 'org-b', name: 'Bolt', identity_organization_id: 'idp-b' },
        { id: 'org-c', name: 'Core', identity_organization_id: 'idp-c' },
      ])
      .execute();
  });
  afterAll(() => database?.close());

  it('answers each run with its own values, from one compilation', async () => {
    const statements = new StatementsByShape<
      Tables,
      'from a name',
      { id: string },
      { from: string; limit: number }
    >(
      (shape) => shape,
      (_, db) =>
        db
          .selectFrom('organization')
          .select('id')
          .where('name', '>=', placeholder<string>('from'))
          .orderBy('name')
          .limit(placeholder<number>('limit')),
    );
    const run = async (from: string, limit: number) => {
      const statement = statements.get(database.db, 'from a name');
      const { rows } = await database.db.executeQuery(statement.bind({ from, limit }));
      return rows.map((row) => row.id);
    };
    expect(await run('B', 10)).toEqual(['org-b', 'org-c']);
    expect(await run('B', 1)).toEqual(['org-b']);
    expect(await run('A', 10)).toEqual(['org-a', 'org-b', 'org-c']);
    expect(await run('Z', 10)).toEqual([]);
  });

  it('runs an sql template whose placeholder stands in two places, and takes null for NULL', async () => {
    const name = placeholder<string | null>('name');
    const statement = new CompiledStatement<{ id: string }>(
      sql<{
        id: string;
      }>`select id from organization where name = ${name} or (${name}::text is null and id = 'org-c')
        order by id`.compile(database.db),
    );
    const ids = async (value: string | null) =>
      (await database.db.executeQuery(statement.bind({ name: value }))).rows.map((row) => row.id);
    expect(await ids('Bolt')).toEqual(['org-b']);
    expect(await ids(null)).toEqual(['org-c']);
  });
});
