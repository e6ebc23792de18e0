import v8 from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { createProofCheck } from './auth/dpop.js';
import { type LocalIssuer, openLocalIssuer } from './auth/local-issuer.js';
import { createTokenVerifier } from './auth/verify.js';
import { serveBackups } from './backup/socket.js';
import type { Config } from './config.js';
import { type Database, openDatabase } from './db/database.js';
import { startEmbeddedMaintenance } from './db/embedded-maintenance.js';
import { createDemoOrganizationIfEmpty } from './demo.js';
import { createEffects, type Effects } from './effects/runtime.js';
import { startEventRetention } from './events/retention.js';
import { buildApp } from './http/app.js';
import type { ConsoleSignIn } from './http/console-sign-in.js';
import { loggerOptions, scrubUrl } from './http/logging.js';
import { createMetrics, type ServiceMetrics, startMetricsServer } from './http/metrics.js';
import { RETENTION_BATCH_SIZE, RETENTION_INTERVAL_MS } from './kernel/purge.js';
import { installTracing } from './kernel/tracing.js';
import { CONSOLE_CLIENT_ID } from './signin/provider.js';
import { createSignin, type Signin } from './signin/runtime.js';
import { ssoSettings } from './sso/runtime.js';
import { startMetadataRefresh } from './sso/saml/refresh.js';
import { SAML_PURGE_BATCH_SIZE, SAML_PURGE_INTERVAL_MS, startSamlRetention } from './sso/saml/retention.js';
import { databaseName, prepareSchema, startupStep } from './startup.js';
import type { StartedTracing } from './tracing/start.js';

export interface Service {
  app: FastifyInstance;
  database: Database;
  localIssuer: LocalIssuer | undefined;
  metrics: ServiceMetrics;
  /** The embedded sign-in, when IDP=local and no AUTH_JWKS_URL. */
  signin: Signin | undefined;
  /** The identity provider, mailer, sync target and effect worker (started unless `runEffects` is false). */
  effects: Effects;
  /** Stops the worker and the app, then closes the database unless the caller brought it. */
  close(): Promise<void>;
}

/** What a caller may choose instead of the configuration: tests bring their own database and log. */
export interface ServiceOverrides {
  /** A database the caller opened (and closes), used instead of the configuration's. */
  database?: Database;
  /** Where the log's JSON lines go instead of stdout, or `false` for no log at all. */
  log?: { write(line: string): void } | false;
  /**
   * Whether the effect worker and the event retention start (default true); without them the recorded effects stay
   * pending and no event is purged.
   */
  runEffects?: boolean;
  /** Called with the app as soon as it exists, before any route is registered (tests watch its routes). */
  onApp?: (app: FastifyInstance) => void;
}

/**
 * The composition root: configuration → database → migrations → identity provider and effects → HTTP app. The one
 * way the service is built, in production and in tests (which override only what `ServiceOverrides` names).
 */
export async function createService(config: Config, overrides: ServiceOverrides = {}): Promise<Service> {
  const localIssuer = config.auth.jwksUrl
    ? undefined
    : await startupStep(`cannot read the issuer key file ${config.auth.localKeyFile}`, () =>
        openLocalIssuer(config.auth),
      );
  const database =
    overrides.database ??
    (await startupStep(`cannot open ${databaseName(config)}`, () =>
      openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        poolSize: config.databasePoolSize,
        connectTimeoutMs: config.databaseConnectTimeoutMs,
        statementTimeoutMs: config.databaseStatementTimeoutMs,
      }),
    ));
  const closeDatabase = overrides.database ? async () => {} : () => database.close();
  const metrics = createMetrics({ db: database.db, poolUse: database.poolUse });
  try {
    await prepareSchema(config, database.db);
    const sso = ssoSettings(config);
    const signin: Signin | undefined =
      config.signin.enabled && localIssuer
        ? await createSignin(config, database.db, localIssuer, sso)
        : undefined;
    const effects = createEffects(config, database.db, metrics.effectFailures, signin?.links);
    const app = await buildApp({
      db: database.db,
      verifyToken: createTokenVerifier(config.auth, localIssuer?.jwks, signin && config.publicUrl),
      checkProof: createProofCheck(database.db, config.publicUrl, config.auth.clockToleranceSeconds),
      extraRoutes: signin?.routes,
      isClientOrigin: signin?.isClientOrigin,
      identity: effects.directory,
      localJwks: localIssuer?.jwks,
      bodyLimitBytes: config.bodyLimitBytes,
      logger: overrides.log === false ? false : loggerOptions(config.logLevel, overrides.log),
      http: config.http,
      metrics,
      metricsToken: config.metrics.token,
      onApp: overrides.onApp,
      webhooks: config.webhooks,
      publicUrl: config.publicUrl,
      sso,
      console: consoleSignIn(config, signin !== undefined),
      afterChange: overrides.runEffects === false ? undefined : effects.wake,
    });
    // `salesreps backup` asks the service that holds the embedded database for a copy of it.
    const dumpDataDir = database.dumpDataDir;
    const backups =
      !overrides.database && config.dataDir && dumpDataDir
        ? await startupStep(`cannot open the backup socket in ${config.dataDir}`, () =>
            serveBackups(config.dataDir, dumpDataDir, app.log.child({ component: 'backup' })),
          )
        : undefined;
    if (overrides.runEffects !== false) effects.start(app.log);
    signin?.start(app.log);
    // Background work like the effect worker: the purge of events past their retention.
    const eventRetention =
      overrides.runEffects === false
        ? undefined
        : startEventRetention(
            database.db,
            {
              days: config.eventsRetentionDays,
              intervalMs: RETENTION_INTERVAL_MS,
              batchSize: RETENTION_BATCH_SIZE,
            },
            app.log.child({ component: 'events-retention' }),
          );
    // And the purge of SAML requests never answered and of assertion ids past their assertion's validity.
    const samlRetention =
      overrides.runEffects === false
        ? undefined
        : startSamlRetention(
            database.db,
            { intervalMs: SAML_PURGE_INTERVAL_MS, batchSize: SAML_PURGE_BATCH_SIZE },
            app.log.child({ component: 'saml-retention' }),
          );
    // And SAML metadata read again from the IdPs' metadata URLs, for their certificate rollovers.
    const metadataRefresh =
      overrides.runEffects === false || !sso.embedded
        ? undefined
        : startMetadataRefresh(database.db, {
            allowPrivateNetworks: sso.allowPrivateNetworks,
            log: app.log.child({ component: 'saml-metadata' }),
          });
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
      signin,
      effects,
      close: async () => {
        // The worker takes no new effect and lets those in flight finish; what it leaves pending stays pending.
        await Promise.all([
          effects.close(),
          app.close(),
          maintenance?.stop(),
          signin?.close(),
          eventRetention?.stop(),
          samlRetention?.stop(),
          backups?.close(),
          metadataRefresh?.stop(),
        ]);
        await closeDatabase();
      },
    };
  } catch (error) {
    await closeDatabase();
    throw error;
  }
}

/**
 * Closes the service: new connections are refused at once; requests in flight get until the deadline, then their
 * connections are cut, so that the database is closed (and the embedded one's lock released) in time.
 */
async function closeWithin(service: Service, timeoutMs: number): Promise<void> {
  const deadline = setTimeout(() => {
    service.app.log.warn('shutdown deadline passed; closing the connections still open');
    service.app.server.closeAllConnections();
  }, timeoutMs);
  await service.close();
  clearTimeout(deadline);
}

/**
 * How far the old generation may grow past what the last full collection kept before the next one, in percent.
 * V8's own factor for a heap limit of gigabytes reaches 300 %, and garbage that waits for a collection stays
 * resident memory.
 */
const HEAP_GROWING_PERCENT = 30;

/**
 * `salesreps serve`: runs until SIGTERM or SIGINT, then finishes in-flight requests and closes the database. A start
 * that fails after the database is open closes it again and rejects with a StartupError.
 */
export async function serve(config: Config): Promise<void> {
  // V8 reads this at every full collection, so the process sets it itself; the young generation's size is fixed
  // when the heap is made and comes from the start command instead (decision 49).
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const tracing = config.tracing && (await startTracing(config.tracing));
  const service = await startupStep('cannot start', () => createService(config));
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  try {
    const address = await startupStep(`cannot listen on ${config.host}:${config.port} (HOST, PORT)`, () =>
      service.app.listen({ host: config.host, port: config.port }),
    );
    if (config.demo && service.localIssuer) {
      const localIssuer = service.localIssuer;
      await startupStep('cannot create the demo organization', () =>
        createDemoOrganizationIfEmpty(
          service.database.db,
          localIssuer,
          address,
          consoleAddress(config, address),
          config.auth.maxTokenLifetimeSeconds,
          config.dataDir,
          service.app.log,
          service.signin && ((input) => (service.signin as Signin).inviteAdmin(input)),
        ),
      );
    }
    const metricsPort = config.metrics.port;
    metricsServer =
      metricsPort === undefined
        ? undefined
        : await startupStep(`cannot serve metrics on ${config.host}:${metricsPort} (METRICS_PORT)`, () =>
            startMetricsServer(service.metrics, config.host, metricsPort),
          );
  } catch (error) {
    await closeWithin(service, config.shutdownTimeoutMs);
    await tracing?.shutdown();
    throw error;
  }
  const stop = async (signal: string) => {
    service.app.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    await closeWithin(service, config.shutdownTimeoutMs);
    await metricsServer?.close();
    // The spans still buffered are exported before the process ends.
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

/**
 * Starts OpenTelemetry and installs its tracing for every unit, before the database is opened (which loads `pg`, so
 * that its instrumentation patches it) and before the app is built. Loaded only here: without
 * OTEL_EXPORTER_OTLP_ENDPOINT nothing of OpenTelemetry is loaded (decision 39).
 */
async function startTracing(settings: NonNullable<Config['tracing']>): Promise<StartedTracing> {
  const started = await startupStep('cannot start tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', async () => {
    const { startTracing } = await import('./tracing/start.js');
    return startTracing(settings, { scrubUrl });
  });
  installTracing(started.tracing);
  return started;
}

/** The console's address: under PUBLIC_URL, where its sign-in returns, unless that names port 0 (PORT=0 alone). */
function consoleAddress(config: Config, listeningAt: string): string {
  const base = new URL(config.publicUrl).port === '0' ? listeningAt : config.publicUrl;
  return `${base}/console/`;
}

/** Where the console signs in: the embedded provider with its built-in client, or CONSOLE_OIDC_CLIENT_ID's. */
function consoleSignIn(config: Config, embedded: boolean): ConsoleSignIn | undefined {
  const claims = { organization: config.auth.claims.organization, roles: config.auth.claims.roles };
  const redirectUri = `${config.publicUrl}/console/`;
  if (embedded) {
    return {
      issuer: config.publicUrl,
      clientId: CONSOLE_CLIENT_ID,
      redirectUri,
      scope: 'openid email',
      authorizationParameters: {},
      claims,
    };
  }
  const { clientId, issuer, scope, audience } = config.console;
  if (!clientId || !issuer) return undefined;
  return { issuer, clientId, redirectUri, scope, authorizationParameters: { audience }, claims };
}
