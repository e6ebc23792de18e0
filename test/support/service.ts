import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type LocalIssuer, openLocalIssuer } from '../../src/auth/local-issuer.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/database.js';
import type { Organization } from '../../src/db/schema.js';
import { newId } from '../../src/kernel/ids.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import { type DatabaseKind, openTestDatabase, type TestDatabase } from './databases.js';
import { checkInjects, operationsOf, sendChecked } from './openapi-validator.js';
import { type RouteContract, routeWatcher } from './route-contract.js';

export interface TestService {
  /** The app; its `inject` checks each answer against the served OpenAPI document, as `call` does. */
  app: FastifyInstance;
  /** The service as `createService` built it (its effects, metrics, close). */
  service: Service;
  db: Db;
  database: TestDatabase;
  /** The service's own DATA_DIR, removed on close. */
  dataDir: string;
  issuer: LocalIssuer;
  config: Config;
  /** The app's routes, and the responses whose status their route did not declare. */
  contract: RouteContract;
  /** A new organization with a unique identity organization id, so tests never share a tenant. */
  createOrganization(name?: string): Promise<Organization>;
  /** A token of the local issuer, as a real identity provider would issue it. */
  token(organization: Organization | string, userId: string, roles: string[]): Promise<string>;
  /**
   * `app.inject` with a bearer token and a JSON body, through Prism's validation of the answer against the served
   * OpenAPI document: an undeclared status, header or field throws (test/support/openapi-validator.ts).
   */
  call(
    method: InjectOptions['method'],
    url: string,
    token: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  /** Run the effect worker (and the other background work), as production does; off by default. */
  runEffects?: boolean;
  /** Where the service logs, one JSON line per write (nothing by default). */
  log?: { write(line: string): void };
}

/**
 * The service in-process, built by `createService` as production builds it, over a fresh database of the given
 * kind (or over the database given, which the test closes itself), configured by `env` as the environment would
 * (DATA_DIR is the test's own). Unless asked, its effect worker does not run, so the effects a request recorded stay
 * pending for the test to read. With AUTH_JWKS_URL the app trusts only that JWKS, as in production; the local issuer
 * still exists, to mint tokens the app must refuse.
 */
export async function startTestService(
  on: DatabaseKind | TestDatabase,
  env: Record<string, string> = {},
  options: TestServiceOptions = {},
): Promise<TestService> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-test-'));
  const config = loadConfig({ ...env, DATA_DIR: dataDir });
  const database = typeof on === 'string' ? await openTestDatabase(on) : on;
  const issuer = await openLocalIssuer(config.auth);
  const watcher = routeWatcher();
  const service = await createService(config, {
    database,
    log: options.log ?? false,
    runEffects: options.runEffects ?? false,
    onApp: watcher.watch,
  });
  const { app } = service;
  const contract = watcher.contract;
  await app.ready();
  await operationsOf(app.swagger());
  const hidden = (response: LightMyRequestResponse, path: string) =>
    contract.answeredHidden(response.headers['x-request-id']) || contract.isHiddenPath(path);
  const inject = checkInjects(app, hidden);
  return {
    app,
    service,
    db: database.db,
    database,
    dataDir,
    issuer,
    config,
    contract,
    createOrganization: (name = 'Acme Distributors') =>
      createOrganization(database.db, { name, identityOrganizationId: `org_${newId()}` }),
    token: (organization, userId, roles) =>
      issuer.sign(
        {
          userId,
          organization:
            typeof organization === 'string' ? organization : organization.identity_organization_id,
          roles,
        },
        600,
      ),
    call: (method, url, token, body) =>
      sendChecked(app.swagger(), {
        method: String(method),
        url,
        send: () =>
          inject({
            method,
            url,
            headers: { authorization: `Bearer ${token}` },
            ...(body === undefined ? {} : { payload: body as object }),
          }),
        hidden: (response) => hidden(response, new URL(url, 'http://service.test').pathname),
      }),
    close: async () => {
      await service.close();
      if (typeof on === 'string') await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
