import type { FastifyInstance } from 'fastify';
import { type LocalIssuer, openLocalIssuer } from './auth/local-issuer.js';
import { createTokenVerifier } from './auth/verify.js';
import type { Config } from './config.js';
import { type Database, migrateToLatest, openDatabase } from './db/database.js';
import { createDemoOrganizationIfEmpty } from './demo.js';
import { localIdentityDirectory } from './effects/identity/directory.js';
import { buildApp } from './http/app.js';

export interface Service {
  app: FastifyInstance;
  database: Database;
  localIssuer: LocalIssuer | undefined;
  close(): Promise<void>;
}

/** The composition root: configuration → database → migrations → HTTP app. */
export async function createService(config: Config): Promise<Service> {
  const localIssuer = config.auth.jwksUrl ? undefined : await openLocalIssuer(config.auth);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });
  try {
    await migrateToLatest(database.db);
    const app = await buildApp({
      db: database.db,
      verifyToken: createTokenVerifier(config.auth, localIssuer?.jwks),
      identity: localIdentityDirectory,
      localJwks: localIssuer?.jwks,
      bodyLimitBytes: config.bodyLimitBytes,
      logger: { level: config.logLevel, redact: ['req.headers.authorization'] },
    });
    return {
      app,
      database,
      localIssuer,
      close: async () => {
        await app.close();
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
    await createDemoOrganizationIfEmpty(service.database.db, service.localIssuer, address);
  }
  const stop = async (signal: string) => {
    service.app.log.info({ signal }, 'shutting down');
    await service.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}
