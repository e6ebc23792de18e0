import fs from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { openApiDocument } from '../../src/http/openapi-document.js';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';

const REPS_URL = '/api/organizations/salesreps';
const METHODS = ['get', 'put', 'patch', 'post', 'delete'];

interface Media {
  schema?: Record<string, unknown>;
  example?: unknown;
}
interface Operation {
  operationId?: string;
  security?: unknown[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<
    string,
    { description: string; headers?: Record<string, unknown>; content?: Record<string, Media> }
  >;
}
type Document = { paths: Record<string, Record<string, Operation>>; servers?: { url: string }[] };

function operationsOf(document: Document): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map(
      (method) => [`${method.toUpperCase()} ${path}`, item[method] as Operation] as [string, Operation],
    ),
  );
}

function expectProblem(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  return response.json();
}

describe('the OpenAPI document', () => {
  let document: Document;
  beforeAll(async () => {
    // As served: JSON, without the schema builder's symbols.
    document = JSON.parse(JSON.stringify(await openApiDocument())) as Document;
  });

  it('is the checked-in client/openapi.json (npm run client:generate writes it)', () => {
    const checkedIn = JSON.parse(
      fs.readFileSync(new URL('../../client/openapi.json', import.meta.url), 'utf8'),
    );
    expect(checkedIn).toEqual(document);
  });

  it('gives every operation a unique operationId, a described 200 and a server to call', () => {
    const ids = operationsOf(document).map(([, operation]) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [name, operation] of operationsOf(document)) {
      expect(operation.responses['200']?.description, name).not.toBe('Default Response');
    }
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('declares every error as application/problem+json with the Problem schema and an example', () => {
    for (const [name, operation] of operationsOf(document)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        expect(Object.keys(response.content ?? {}), `${name} ${status}`).toEqual([
          'application/problem+json',
        ]);
        const media = response.content?.['application/problem+json'];
        expect(media?.schema).toEqual({ $ref: '#/components/schemas/Problem' });
        expect(media?.example).toMatchObject({ status: Number(status) });
      }
    }
  });

  it('has an example on every request body and every JSON response', () => {
    for (const [name, operation] of operationsOf(document)) {
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        expect(media.example, `${name} request`).toBeDefined();
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const media of Object.values(response.content ?? {})) {
          expect(media.example, `${name} ${status}`).toBeDefined();
        }
      }
    }
  });

  it('types the list headers, declares the sort values as enums and the DELETE body as optional', () => {
    const list = document.paths[REPS_URL]?.get as Operation;
    const headers = list.responses['200']?.headers ?? {};
    expect(headers['X-Total-Count']).toMatchObject({ required: true, schema: { type: 'integer' } });
    expect(headers.Link).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(headers['X-RateLimit-Limit']).toEqual({ $ref: '#/components/headers/X-RateLimit-Limit' });
    expect(list.responses['429']?.headers?.['Retry-After']).toEqual({
      $ref: '#/components/headers/Retry-After',
    });
    const parameters = (list as unknown as { parameters: { name: string; schema: { enum?: string[] } }[] })
      .parameters;
    expect(parameters.find((parameter) => parameter.name === 'sortOn')?.schema.enum).toEqual([
      'RepNumber',
      'FirstName',
      'LastName',
      'Email',
      'PhoneNumber',
      'Active',
    ]);
    expect(parameters.find((parameter) => parameter.name === 'sortDirection')?.schema.enum).toEqual([
      'asc',
      'desc',
    ]);
    expect(document.paths[REPS_URL]?.delete?.requestBody?.required).toBe(false);
    expect(document.paths[REPS_URL]?.put?.requestBody?.required).toBe(true);
    expect(document.paths['/healthz']?.get?.security).toEqual([]);
  });
});

describe.each(databaseKinds)('content types and methods on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Media Supplies');
    admin = await service.token(organization, 'media-admin', ['Admin']);
  });
  afterAll(() => service.close());
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });

  const rep = { firstName: 'Plain', lastName: 'Text', email: 'plain@example.com', repNumber: 'PT-1' };

  it('answers a JSON body sent as text/plain with 415, and writes nothing', async () => {
    const response = await service.app.inject({
      method: 'PUT',
      url: REPS_URL,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/plain' },
      payload: JSON.stringify(rep),
    });
    expect(expectProblem(response, 415).type).toBe('urn:salesreps:problem:unsupported-media-type');
    expect(await service.db.selectFrom('sales_rep').select('id').execute()).toEqual([]);
  });

  it('answers a gzip-encoded body with 415 and Accept-Encoding: identity instead of parsing it', async () => {
    const response = await service.app.inject({
      method: 'PUT',
      url: REPS_URL,
      headers: {
        authorization: `Bearer ${admin}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      payload: JSON.stringify(rep),
    });
    expect(expectProblem(response, 415).type).toBe('urn:salesreps:problem:unsupported-content-encoding');
    expect(response.headers['accept-encoding']).toBe('identity');
    expect(await service.db.selectFrom('sales_rep').select('id').execute()).toEqual([]);
  });

  it('answers a known path asked with another method with 405 and Allow; an unknown path stays 404', async () => {
    for (const [method, url, allow] of [
      ['PUT', '/api/salesreps/organizations', 'GET, HEAD'],
      ['POST', REPS_URL, 'DELETE, GET, HEAD, PATCH, PUT'],
      ['GET', `${REPS_URL}/activate`, 'POST'],
      ['PATCH', '/api/customers/C-1', 'DELETE, GET, HEAD'],
    ] as const) {
      const response = await service.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(expectProblem(response, 405).type, `${method} ${url}`).toBe(
        'urn:salesreps:problem:method-not-allowed',
      );
      expect(response.headers.allow).toBe(allow);
    }
    expectProblem(await service.app.inject({ method: 'GET', url: '/api/nothing-here' }), 404);
  });

  it('accepts sortOn and sortDirection in any letter case, as their canonical values', async () => {
    const response = await service.call('GET', `${REPS_URL}?sortOn=lastname&sortDirection=DESC`, admin);
    expect(response.statusCode).toBe(200);
    expect(response.headers.link).toContain('sortOn=LastName&sortDirection=desc');
    const refused = await service.call('GET', `${REPS_URL}?sortOn=organizationId`, admin);
    expect(expectProblem(refused, 400).errors).toEqual([{ field: 'sortOn', message: expect.any(String) }]);
  });
});
