import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { type LocalIssuer, openLocalIssuer } from '../../src/auth/local-issuer.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/database.js';
import type { Organization } from '../../src/db/schema.js';
import type { ServiceMetrics } from '../../src/http/metrics.js';
import { newId } from '../../src/kernel/ids.js';
import { createService } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import { type DatabaseKind, openTestDatabase, type TestDatabase } from '../support/databases.js';

/** A log stream that keeps every line, parsed, for assertions about what was logged. */
export class CapturedLog {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  write(line: string): void {
    this.raw.push(line);
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }
}

export interface HardenedApp {
  app: FastifyInstance;
  config: Config;
  metrics: ServiceMetrics;
  log: CapturedLog;
  close(): Promise<void>;
}

export interface HardenedService extends HardenedApp {
  db: Db;
  database: TestDatabase;
  issuer: LocalIssuer;
  createOrganization(): Promise<Organization>;
  token(organization: Organization, userId: string, roles: string[]): Promise<string>;
  /** Another app on the same database and issuer, configured by `env` (a second replica). */
  replica(env: Record<string, string>): Promise<HardenedApp>;
}

/**
 * The app as production builds it (configuration from `env`, the production logger writing to a captured
 * stream, metrics wired to the pool) over a fresh database of the given kind, or over the database given.
 */
export async function startHardenedService(
  on: DatabaseKind | TestDatabase,
  env: Record<string, string> = {},
): Promise<HardenedService> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-hardening-'));
  const database = typeof on === 'string' ? await openTestDatabase(on) : on;
  const issuer = await openLocalIssuer(loadConfig({ DATA_DIR: dataDir }).auth);
  const apps: HardenedApp[] = [];
  const start = async (appEnv: Record<string, string>): Promise<HardenedApp> => {
    const config = loadConfig({ DATA_DIR: dataDir, ...appEnv });
    const log = new CapturedLog();
    const service = await createService(config, { database, log, runEffects: false });
    await service.app.ready();
    const started = {
      app: service.app,
      config,
      metrics: service.metrics,
      log,
      close: () => service.close(),
    };
    apps.push(started);
    return started;
  };
  const first = await start(env);
  return {
    ...first,
    db: database.db,
    database,
    issuer,
    createOrganization: () =>
      createOrganization(database.db, {
        name: 'Hardening Supplies',
        identityOrganizationId: `org_${newId()}`,
      }),
    token: (organization, userId, roles) =>
      issuer.sign({ userId, organization: organization.identity_organization_id, roles }, 600),
    replica: start,
    close: async () => {
      for (const app of apps) await app.close();
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every row of every table of the service (sorted, as text), to show that a request wrote nothing. */
export async function snapshotTables(db: Db): Promise<Record<string, string[]>> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const snapshot: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    snapshot[name] = rows.rows.map((row) => JSON.stringify(row)).sort();
  }
  return snapshot;
}
