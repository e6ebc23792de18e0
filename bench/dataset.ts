import fs from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { type Db, migrateToLatest, openDatabase } from '../src/db/database.js';

/** The size of a benchmark dataset. Organization 1 is `bench_org_big`; `bench_org_writes` (empty) takes the PUTs. */
export interface DatasetSize {
  organizations: number;
  reps: number;
  /** Reps whose first organization is `bench_org_big` (reps 1..bigOrganizationReps). */
  bigOrganizationReps: number;
  /** 0 when the service has no customers table. */
  customers: number;
  /** Of those, the customers of `bench_org_big`. */
  bigOrganizationCustomers: number;
}

export const BIG_ORGANIZATION = 'bench_org_big';
export const WRITES_ORGANIZATION = 'bench_org_writes';
/** Big-organization customers go to its first reps, this many customers each. */
export const CUSTOMERS_PER_BIG_ORGANIZATION_REP = 10;

/** The identity organization id of organization n (1-based; 1 is the big one). */
export function identityOrganizationOf(n: number): string {
  return n === 1 ? BIG_ORGANIZATION : `bench_org_${n}`;
}

/** The identity provider user id and rep number of rep i. */
export function identityUserOf(i: number): string {
  return `bench_user_${i}`;
}
function repNumberOf(i: number): string {
  return `R${String(i).padStart(7, '0')}`;
}

/** The organization of rep i's first assignment. */
export function firstOrganizationOf(i: number, size: DatasetSize): number {
  return i <= size.bigOrganizationReps ? 1 : 2 + (i % (size.organizations - 1));
}

/** Every 20th rep is in 2–5 organizations: 1 + (i / 20) % 4 more than its first. */
export function extraOrganizationsOf(i: number): number {
  return i % 20 === 0 ? 1 + ((i / 20) % 4) : 0;
}

/** A load statement may take minutes; the service's own timeout is for requests. */
const LOAD_STATEMENT_TIMEOUT_MS = 15 * 60 * 1000;

// A 22-character id derived from a tag and a number, like the service's own ids in length.
const idOf = (tag: string, n: string) => `substr(md5('${tag}' || ${n}), 1, 22)`;

const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Carla',
  'David',
  'Elena',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jamal',
  'Kira',
  'Liam',
  'Maya',
  'Noah',
  'Olga',
  'Pablo',
  'Quinn',
  'Rosa',
  'Sam',
  'Tara',
  'Uma',
  'Victor',
  'Wen',
  'Xavier',
  'Yara',
  'Zoe',
];
const LAST_NAMES = [
  'Adams',
  'Baker',
  'Chen',
  'Diaz',
  'Evans',
  'Fischer',
  'Garcia',
  'Hughes',
  'Ito',
  'Jensen',
  'Khan',
  'Lopez',
  'Moreau',
  'Nguyen',
  'Okafor',
  'Patel',
  'Rossi',
  'Silva',
  'Tanaka',
  'Novak',
  'Weber',
  'Young',
  'Zimmer',
];
/** What rep i's first assignment says of it: the values the load writes (SQL arrays count from 1). */
export function assignmentOf(i: number) {
  return {
    firstName: FIRST_NAMES[(i * 7919) % FIRST_NAMES.length] as string,
    lastName: LAST_NAMES[(i * 104729) % LAST_NAMES.length] as string,
    email: `rep${i}@bench.example`,
    repNumber: repNumberOf(i),
  };
}

const sqlArray = (values: string[]) => `array[${values.map((value) => `'${value}'`).join(',')}]`;

/**
 * The statements that fill an empty, migrated database, all set-based (generate_series), in order. The names,
 * phones (every 10th missing) and active flags (every 20th rep inactive) repeat, so every sort meets ties. The names
 * are ASCII, so lower() gives their search keys.
 */
function loadStatements(size: DatasetSize): string[] {
  const others = size.organizations - 1;
  const statements = [
    `insert into organization (id, name, identity_organization_id)
     select ${idOf('o', 'n')}, 'Bench Organization ' || n,
       case when n = 1 then '${BIG_ORGANIZATION}' else 'bench_org_' || n end
     from generate_series(1, ${size.organizations}) n`,
    `insert into organization (id, name, identity_organization_id)
     values (${idOf('o', "'writes'")}, 'Bench Writes', '${WRITES_ORGANIZATION}')`,
    `insert into sales_rep (id, email, identity_provider_user_id)
     select ${idOf('r', 'i')}, 'rep' || i || '@bench.example', 'bench_user_' || i
     from generate_series(1, ${size.reps}) i`,
    // Each rep's first organization, then the extra ones of every 20th rep: j × 1,000 organizations further on.
    `insert into organization_sales_rep
       (id, organization_id, sales_rep_id, rep_number, active, roles, first_name, last_name, first_name_search,
        last_name_search, email, phone_number)
     select id, organization_id, sales_rep_id, rep_number, active, roles, first_name, last_name,
       lower(first_name), lower(last_name), email, phone_number
     from (
       select ${idOf('a', "i || '.' || j")} as id,
         ${idOf('o', `case when j = 0 and i <= ${size.bigOrganizationReps} then 1 when j = 0 then 2 + i % ${others} else 2 + (i + j * 1000) % ${others} end`)} as organization_id,
         r.id as sales_rep_id, 'R' || lpad(i::text, 7, '0') as rep_number, i % 20 <> 7 as active,
         '{SalesRep}'::text[] as roles,
         (${sqlArray(FIRST_NAMES)})[1 + (i::bigint * 7919) % ${FIRST_NAMES.length}] as first_name,
         (${sqlArray(LAST_NAMES)})[1 + (i::bigint * 104729) % ${LAST_NAMES.length}] as last_name,
         r.email,
         case when i % 10 = 3 then null else '+1 555 ' || lpad(((i::bigint * 7121) % 10000000)::text, 7, '0') end
           as phone_number
       from generate_series(1, ${size.reps}) i
       cross join lateral generate_series(0, case when i % 20 = 0 then 1 + (i / 20) % 4 else 0 end) j
       join sales_rep r on r.id = ${idOf('r', 'i')}
     ) assignment`,
  ];
  if (size.customers > 0) {
    // Big-organization customers belong to its first reps, 10 each; every other customer c to rep c, in rep c's
    // first organization.
    statements.push(`
      insert into customer (id, organization_id, customer_number, company_name, company_name_search,
        company_email, company_phone, active, rep_number)
      select ${idOf('c', 'c')},
        ${idOf('o', `case when c <= ${size.bigOrganizationCustomers} then 1 else 2 + c % ${others} end`)},
        'C' || lpad(c::text, 7, '0'), 'Company ' || c, 'company ' || c, 'buyer' || c || '@customer.example',
        '+1 555 ' || lpad(c::text, 7, '0'), true,
        'R' || lpad((case when c <= ${size.bigOrganizationCustomers}
          then 1 + (c - 1) / ${CUSTOMERS_PER_BIG_ORGANIZATION_REP} else c end)::text, 7, '0')
      from generate_series(1, ${size.customers}) c`);
  }
  return statements;
}

async function tableExists(db: Db, table: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`select to_regclass(${table}) is not null as found`.execute(
    db,
  );
  return rows[0]?.found ?? false;
}

/** The dataset a database holds, adjusted to what the service has tables for. */
async function effectiveSize(db: Db, size: DatasetSize): Promise<DatasetSize> {
  return (await tableExists(db, 'customer')) ? size : { ...size, customers: 0, bigOrganizationCustomers: 0 };
}

/** Whether the database holds exactly this dataset, completely loaded (the marker is written last). */
async function holds(db: Db, size: DatasetSize): Promise<boolean> {
  if (!(await tableExists(db, 'bench_dataset'))) return false;
  const { rows } = await sql<{ size: DatasetSize }>`select size from bench_dataset`.execute(db);
  const held = rows[0]?.size;
  // Field by field: jsonb does not keep the order of keys.
  return (
    held !== undefined && (Object.keys(size) as (keyof DatasetSize)[]).every((key) => held[key] === size[key])
  );
}

export interface LoadResult {
  reused: boolean;
  seconds: number;
  size: DatasetSize;
}

/** The tables the load fills, in order. */
function loadedTables(size: DatasetSize): string[] {
  const tables = ['organization', 'sales_rep', 'organization_sales_rep'];
  return size.customers > 0 ? [...tables, 'customer'] : tables;
}

/**
 * Takes the indexes and constraints (all but primary keys) off the loaded tables and returns the statements that
 * put them back: building an index once over loaded rows is many times faster than growing it row by row, and
 * reading the definitions from the catalog keeps the migrations their only source.
 */
async function setIndexesAside(db: Db, tables: string[]): Promise<string[]> {
  const { rows: constraints } = await sql<{ table: string; name: string; definition: string; type: string }>`
    select c.conrelid::regclass::text as table, c.conname as name, pg_get_constraintdef(c.oid) as definition,
      c.contype as type
    from pg_constraint c
    where c.conrelid = any (${tables}::regclass[]) and c.contype in ('u', 'f')`.execute(db);
  const { rows: indexes } = await sql<{ name: string; definition: string }>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i
    where i.indrelid = any (${tables}::regclass[]) and not i.indisprimary
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.contype = 'u')`.execute(
    db,
  );
  // Foreign keys first (they may lean on unique indexes), then the rest.
  const ordered = [...constraints].sort((a, b) => Number(b.type === 'f') - Number(a.type === 'f'));
  for (const constraint of ordered) {
    await sql`alter table ${sql.table(constraint.table)} drop constraint ${sql.id(constraint.name)}`.execute(
      db,
    );
  }
  for (const index of indexes) await sql`drop index ${sql.table(index.name)}`.execute(db);
  return [
    ...indexes.map((index) => index.definition),
    ...ordered
      .reverse()
      .map(
        (constraint) =>
          `alter table ${constraint.table} add constraint ${constraint.name} ${constraint.definition}`,
      ),
  ];
}

/** Fills a freshly migrated, empty database, then vacuums it so that index-only scans need no table visit. */
async function fill(db: Db, size: DatasetSize, log: (line: string) => void, bulk: boolean): Promise<void> {
  const tables = loadedTables(size);
  const restore = bulk ? await setIndexesAside(db, tables) : [];
  const timed = async (statement: string) => {
    const started = performance.now();
    await sql.raw(statement).execute(db);
    const seconds = (performance.now() - started) / 1000;
    log(`  ${statement.trim().split('\n')[0]?.replace(/\s+/g, ' ').slice(0, 100)}: ${seconds.toFixed(1)} s`);
  };
  for (const statement of loadStatements(size)) await timed(statement);
  for (const statement of restore) await timed(statement);
  for (const table of [...tables, 'organization_assignment_count']) {
    await sql`vacuum (analyze) ${sql.table(table)}`.execute(db);
  }
  await sql`create table bench_dataset (size jsonb not null)`.execute(db);
  await sql`insert into bench_dataset (size) values (${JSON.stringify(size)})`.execute(db);
}

/**
 * Loads the dataset into the PostgreSQL database (created if missing) through the service's own migrations, or
 * reuses it when it already holds this dataset; a database holding anything else is dropped and made again.
 */
export async function loadPostgresDataset(
  databaseUrl: string,
  size: DatasetSize,
  log: (line: string) => void,
): Promise<LoadResult> {
  const started = performance.now();
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const server = new URL(databaseUrl);
  server.pathname = '/postgres';
  const onServer = async (statement: string) => {
    const admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
    try {
      return await admin.query(statement, statement.startsWith('select') ? [name] : []);
    } finally {
      await admin.end();
    }
  };
  const exists = (await onServer('select 1 from pg_database where datname = $1')).rowCount;
  for (let fresh = !exists; ; fresh = true) {
    if (fresh) {
      await onServer(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
      await onServer(`create database ${pg.escapeIdentifier(name)}`);
    }
    // One connection, so that the session setting below holds for every statement of the load.
    const database = await openDatabase({
      databaseUrl,
      poolSize: 1,
      statementTimeoutMs: LOAD_STATEMENT_TIMEOUT_MS,
    });
    try {
      const migrated = await migrateToLatest(database.db).then(
        () => true,
        () => false,
      );
      if (!migrated && !fresh) continue;
      if (!migrated) throw new Error(`The migrations fail on a new database ${name}`);
      const wanted = await effectiveSize(database.db, size);
      if (await holds(database.db, wanted)) return { reused: true, seconds: 0, size: wanted };
      if (!fresh) continue;
      // The load is one big write: no need to wait for the disk after each statement.
      await sql`set synchronous_commit = off`.execute(database.db);
      await sql`set maintenance_work_mem = '256MB'`.execute(database.db);
      await fill(database.db, wanted, log, true);
      return { reused: false, seconds: (performance.now() - started) / 1000, size: wanted };
    } finally {
      await database.close();
    }
  }
}

/** The same for an embedded database folder (a DATA_DIR), for the embedded line. */
export async function loadEmbeddedDataset(
  dataDir: string,
  size: DatasetSize,
  log: (line: string) => void,
): Promise<LoadResult> {
  const started = performance.now();
  for (let fresh = !fs.existsSync(dataDir); ; fresh = true) {
    if (fresh) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    const database = await openDatabase({ dataDir });
    try {
      const migrated = await migrateToLatest(database.db).then(
        () => true,
        () => false,
      );
      if (!migrated && !fresh) continue;
      if (!migrated) throw new Error(`The migrations fail on a new embedded database in ${dataDir}`);
      const wanted = await effectiveSize(database.db, size);
      if (await holds(database.db, wanted)) return { reused: true, seconds: 0, size: wanted };
      if (!fresh) continue;
      await fill(database.db, wanted, log, false);
      return { reused: false, seconds: (performance.now() - started) / 1000, size: wanted };
    } finally {
      await database.close();
    }
  }
}
