import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { LocalIssuer } from '../../src/auth/local-issuer.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/database.js';
import type { Organization } from '../../src/db/schema.js';
import type { ServiceMetrics } from '../../src/http/metrics.js';
import { createService } from '../../src/main.js';
import type { DatabaseKind, TestDatabase } from '../support/databases.js';
import { checkInjects } from '../support/openapi-validator.js';
import { routeWatcher } from '../support/route-contract.js';
import { startTestService } from '../support/service.js';

/** A log stream that keeps every line, parsed, for assertions about what was logged. */
class CapturedLog {
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
 * stream, metrics wired to the pool) over a fresh database of the given kind, or over the database given (closed
 * with the service).
 */
export async function startHardenedService(
  on: DatabaseKind | TestDatabase,
  env: Record<string, string> = {},
): Promise<HardenedService> {
  const log = new CapturedLog();
  const service = await startTestService(on, env, { log });
  const replicas: HardenedApp[] = [];
  const replica = async (replicaEnv: Record<string, string>): Promise<HardenedApp> => {
    const config = loadConfig({ DATA_DIR: service.dataDir, ...replicaEnv });
    const replicaLog = new CapturedLog();
    const watcher = routeWatcher();
    const started = await createService(config, {
      database: service.database,
      log: replicaLog,
      runEffects: false,
      onApp: watcher.watch,
    });
    await started.app.ready();
    // A replica's answers are held to the document as the first app's are (test/support/service.ts).
    checkInjects(
      started.app,
      (response, path) =>
        watcher.contract.answeredHidden(response.headers['x-request-id']) ||
        watcher.contract.isHiddenPath(path),
    );
    const app = {
      app: started.app,
      config,
      metrics: started.metrics,
      log: replicaLog,
      close: () => started.close(),
    };
    replicas.push(app);
    return app;
  };
  return {
    app: service.app,
    config: service.config,
    metrics: service.service.metrics,
    log,
    db: service.db,
    database: service.database,
    issuer: service.issuer,
    createOrganization: () => service.createOrganization('Hardening Supplies'),
    token: (organization, userId, roles) => service.token(organization, userId, roles),
    replica,
    close: async () => {
      for (const app of replicas) await app.close();
      await service.close();
      if (typeof on !== 'string') await on.close();
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
