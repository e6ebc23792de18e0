import type { FastifyInstance } from 'fastify';
import { type LocalIssuer, openLocalIssuer } from './auth/local-issuer.js';
import { createTokenVerifier } from './auth/verify.js';
import type { Config } from './config.js';
import { type Database, migrateToLatest, openDatabase } from './db/database.js';
import { startEmbeddedMaintenance } from './db/embedded-maintenance.js';
import { createDemoOrganizationIfEmpty } from './demo.js';
import { createEffects } from './effects/runtime.js';
import { buildApp } from './http/app.js';
import { loggerOptions } from './http/logging.js';
import { createMetrics, type ServiceMetrics, startMetricsServer } from './http/metrics.js';

export interface Service {
  app: FastifyInstance;
  database: Database;
  localIssuer: LocalIssuer | undefined;
  metrics: ServiceMetrics;
  close(): Promise<void>;
}

/** The composition root: configuration → database → migrations → HTTP app. */
export async function createService(config: Config): Promise<Service> {
  const localIssuer = config.auth.jwksUrl ? undefined : await openLocalIssuer(config.auth);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
  });
  const metrics = createMetrics({ db: database.db, poolUse: database.poolUse });
  try {
    await migrateToLatest(database.db);
    const effects = createEffects(config, database.db, metrics.effectFailures);
    const app = await buildApp({
      db: database.db,
      verifyToken: createTokenVerifier(config.auth, localIssuer?.jwks),
      identity: effects.directory,
      localJwks: localIssuer?.jwks,
      bodyLimitBytes: config.bodyLimitBytes,
      logger: loggerOptions(config.logLevel),
      http: config.http,
      metrics,
      metricsToken: config.metrics.token,
    });
    effects.start(app.log);
    const maintenance =
      database.kind === 'pglite' && config.embeddedVacuumIntervalMs > 0
        ? startEmbeddedMaintenance(
            database.db,
            config.embeddedVacuumIntervalMs,
            app.log.child({ component: 'maintenance' }),
          )
        : undefined;
    return {
      app,
      database,
      localIssuer,
      metrics,
      close: async () => {
        // The worker takes no new effect and lets those in flight finish; what it leaves pending stays pending.
        await Promise.all([effects.close(), app.close(), maintenance?.stop()]);
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** `salesreps serve`: runs until SIGTERM or SIGINT, then finishes in-flight requests and closes the database. */
export async function serve(config: Config): Promise<void> {
  const service = await createService(config);
  const address = await service.app.listen({ host: config.host, port: config.port });
  if (config.demo && service.localIssuer) {
    await createDemoOrganizationIfEmpty(
      service.database.db,
      service.localIssuer,
      address,
      config.dataDir,
      service.app.log,
    );
  }
  const metricsServer =
    config.metrics.port === undefined
      ? undefined
      : await startMetricsServer(service.metrics, config.host, config.metrics.port);
  const stop = async (signal: string) => {
    service.app.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    // New connections are refused at once; requests in flight get until the deadline, then their connections
    // are cut, so that the pool is closed and the process ends in time.
    const deadline = setTimeout(() => {
      service.app.log.warn('shutdown deadline passed; closing the connections still open');
      service.app.server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    await service.close();
    clearTimeout(deadline);
    await metricsServer?.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}
