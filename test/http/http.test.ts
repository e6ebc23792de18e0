import Fastify, { type FastifyReply } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { expectProblem, REPS_URL } from '../support/fixtures.js';
import { routeWatcher } from '../support/route-contract.js';
import { startTestService, type TestService } from '../support/service.js';

/** The seven endpoints of the published API page: method and path. */
const SALES_REP_ENDPOINTS = [
  ['get', '/api/salesreps/organizations'],
  ['get', REPS_URL],
  ['put', REPS_URL],
  ['patch', REPS_URL],
  ['post', `${REPS_URL}/activate`],
  ['post', `${REPS_URL}/deactivate`],
  ['delete', REPS_URL],
] as const;

const POLICIES = ['public', 'Admin', 'SalesRep', 'SalesRepSelf', 'AdminOrSalesRep', 'Scim'];

describe.each(databaseKinds)('HTTP behaviour on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Http Supplies');
    admin = await service.token(organization, 'http-admin', ['Admin']);
  });
  afterAll(() => service.close());
  // `docs/api.md`, "Errors": every answer of these tests has a status its route declared.
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });

  const send = (method: 'PUT' | 'PATCH' | 'POST', payload: string, contentType: string, requestId?: string) =>
    service.app.inject({
      method,
      url: method === 'POST' ? `${REPS_URL}/activate` : REPS_URL,
      headers: {
        authorization: `Bearer ${admin}`,
        'content-type': contentType,
        ...(requestId ? { 'x-request-id': requestId } : {}),
      },
      payload,
    });

  it('answers malformed JSON with a 400 problem naming the body', async () => {
    for (const payload of ['{"firstName": "J', '{firstName: 1}', 'nul']) {
      const body = expectProblem(await send('PUT', payload, 'application/json'), 400);
      expect(body.errors).toEqual([{ field: 'body', message: expect.any(String) }]);
    }
  });

  it('answers a body of another content type with 415, on every method that takes a body', async () => {
    for (const method of ['PUT', 'PATCH', 'POST'] as const) {
      expectProblem(await send(method, 'firstName=J', 'application/x-www-form-urlencoded'), 415);
      expectProblem(await send(method, '<rep/>', 'text/xml'), 415);
    }
  });

  it('answers a body over the 64 KiB limit with 413 and writes nothing', async () => {
    const big = JSON.stringify({ firstName: 'F'.repeat(65 * 1024) });
    expectProblem(await send('PUT', big, 'application/json'), 413);
    const reps = await service.db.selectFrom('sales_rep').select('id').execute();
    expect(reps).toEqual([]);
  });

  it('answers an unknown route with a 404 problem', async () => {
    for (const [method, url] of [
      ['GET', '/api/nothing-here'],
      ['GET', '/nothing-here'],
    ] as const) {
      const response = await service.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${admin}` },
      });
      const body = expectProblem(response, 404);
      expect(body.type).toBe('urn:salesreps:problem:not-found');
    }
  });

  it('keeps SQL and constraint names out of a conflict answered by the database', async () => {
    const rep = { firstName: 'Con', lastName: 'Flict', email: 'conflict@example.com', repNumber: 'C-1' };
    expect((await service.call('PUT', REPS_URL, admin, rep)).statusCode).toBe(200);
    const again = await service.call('PUT', REPS_URL, admin, { ...rep, email: 'other@example.com' });
    expectProblem(again, 409);
  });

  it('accepts a caller X-Request-Id, echoes it in the header and the problem, and makes one up otherwise', async () => {
    const id = 'trace-0123456789abcdef';
    const response = await send('PUT', '{', 'application/json', id);
    expect(response.headers['x-request-id']).toBe(id);
    expectProblem(response, 400, [], id);
    const ok = await service.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': id } });
    expect(ok.headers['x-request-id']).toBe(id);
    const made = await service.app.inject({ method: 'GET', url: '/healthz' });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves /healthz and /readyz with 200 and the local issuer keys at /.well-known/jwks.json', async () => {
    const health = await service.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await service.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const jwks = await service.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    const keys = jwks.json().keys as Record<string, unknown>[];
    expect(keys).toEqual(service.issuer.jwks.keys);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    // Only the public half: no private key material is published.
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('serves an OpenAPI 3.1 document of all seven endpoints with request, response and every declared status', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const routes = service.contract.routes();
    for (const [method, path] of SALES_REP_ENDPOINTS) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      const route = routes.find((entry) => entry.url === path && entry.method === method.toUpperCase());
      expect(route, `${method} ${path}`).toBeDefined();
      // Every status the route declares is documented, each with a JSON schema.
      expect(Object.keys(operation.responses).sort()).toEqual([...(route?.declaredStatuses ?? [])].sort());
      expect(route?.declaredStatuses).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
      for (const [status, answer] of Object.entries<{ content?: Record<string, { schema: object }> }>(
        operation.responses,
      )) {
        if (status === '200' && (path.endsWith('/activate') || path.endsWith('/deactivate'))) continue;
        const content = answer.content ?? {};
        const schema = Object.values(content)[0]?.schema;
        expect(schema, `${method} ${path} ${status}`).toBeDefined();
      }
      if (method === 'get') {
        expect(operation.requestBody).toBeUndefined();
      } else {
        const body = operation.requestBody?.content?.['application/json']?.schema;
        expect(body, `${method} ${path} request body`).toMatchObject({ type: 'object' });
        expect(Object.keys(body.properties ?? {}).length).toBeGreaterThan(0);
      }
    }
    const listParameters = (doc.paths[REPS_URL].get.parameters as { name: string; in: string }[]).map(
      (parameter) => `${parameter.in}:${parameter.name}`,
    );
    expect(listParameters).toEqual(
      expect.arrayContaining(['query:pageNumber', 'query:pageSize', 'query:sortOn', 'query:sortDirection']),
    );
    const putBody = doc.paths[REPS_URL].put.requestBody.content['application/json'].schema;
    expect(putBody.required).toEqual(expect.arrayContaining(['firstName', 'lastName', 'email', 'repNumber']));
    const putAnswer = doc.paths[REPS_URL].put.responses['200'].content['application/json'].schema;
    expect(Object.keys(putAnswer.properties)).toEqual(
      expect.arrayContaining(['organizationSalesRepId', 'identityProvider', 'identityProviderUserId']),
    );
  });

  it('serves the interactive API page at /docs', async () => {
    const entry = await service.app.inject({ method: 'GET', url: '/docs' });
    const page =
      entry.statusCode === 200
        ? entry
        : await service.app.inject({ method: 'GET', url: entry.headers.location ?? '' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toMatch(/swagger-ui/i);
  });

  it('declares a policy on every route, documents every public API route, and lets 401/403 be declared where a token is needed', () => {
    const routes = service.contract.routes();
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      expect(POLICIES, `${route.method} ${route.url}`).toContain(route.policy);
      if (!route.hidden && route.url.startsWith('/api/')) {
        expect(route.declaredStatuses.length, `${route.method} ${route.url}`).toBeGreaterThan(0);
      }
      if (route.policy !== 'public') {
        expect(route.declaredStatuses, `${route.method} ${route.url}`).toEqual(
          expect.arrayContaining(['401', '403']),
        );
      }
    }
    const undocumented = routes.filter(
      (route) => !route.hidden && route.declaredStatuses.length === 0 && !route.url.startsWith('/docs'),
    );
    expect(undocumented.map((route) => `${route.method} ${route.url}`)).toEqual([]);
  });

  it.each(['/api/organizations/salesreps', '/api/customers', '/api/organizations/effects'])(
    'takes page numbers and sizes of %s in decimal digits only',
    async (url) => {
      for (const [query, field] of [
        ['pageNumber=1e1', 'pageNumber'],
        ['pageSize=0x2', 'pageSize'],
        ['pageNumber=%202', 'pageNumber'],
      ]) {
        const response = await service.call('GET', `${url}?${query}`, admin);
        expectProblem(response, 400);
        expect(response.json().errors).toEqual([
          { field, message: 'must be an integer written in decimal digits' },
        ]);
      }
      expect((await service.call('GET', `${url}?pageNumber=2&pageSize=10`, admin)).statusCode).toBe(200);
    },
  );

  it('declares the 5xx a route answers with once its database is closed', async () => {
    await service.database.close();
    const ready = await service.app.inject({ method: 'GET', url: '/readyz' });
    expectProblem(ready, 503);
    // A closed pool is a fault of the process (500); a server that is down is a 503 (test/hardening).
    const list = await service.call('GET', REPS_URL, admin);
    expectProblem(list, 500);
    expect(service.contract.takeUndeclared()).toEqual([]);
    // The file's last test: the database is closed already, so closing the service must not close it again.
    service.database.close = async () => {};
  });

  it('notes a response whose status its route did not declare (the check the other tests rely on)', async () => {
    const { watch, contract } = routeWatcher();
    const app = Fastify();
    watch(app);
    app.get(
      '/teapot',
      { schema: { response: { 200: { type: 'string' } } } },
      (_request, reply: FastifyReply) => reply.code(418).send('short and stout'),
    );
    await app.inject({ method: 'GET', url: '/teapot' });
    expect(contract.takeUndeclared()).toEqual([{ method: 'GET', route: '/teapot', status: 418 }]);
    await app.close();
  });
});
