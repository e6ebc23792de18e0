import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';
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

  it('types the list headers, declares the sort values as what is accepted and the DELETE body as optional', () => {
    const list = document.paths[REPS_URL]?.get as Operation;
    const headers = list.responses['200']?.headers ?? {};
    expect(headers['X-Total-Count']).toMatchObject({ required: true, schema: { type: 'integer' } });
    expect(headers.Link).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(headers['X-RateLimit-Limit']).toEqual({ $ref: '#/components/headers/X-RateLimit-Limit' });
    expect(list.responses['429']?.headers?.['Retry-After']).toEqual({
      $ref: '#/components/headers/Retry-After',
    });
    expect(document.paths[REPS_URL]?.delete?.requestBody?.required).toBe(false);
    expect(document.paths[REPS_URL]?.put?.requestBody?.required).toBe(true);
    expect(document.paths['/healthz']?.get?.security).toEqual([]);
  });

  it("declares the events list's Link as optional: the last page sends none", () => {
    const events = document.paths['/api/organizations/events']?.get as Operation;
    expect(events.responses['200']?.headers?.Link).toMatchObject({ required: false });
  });

  it('declares sortOn and sortDirection as what the service accepts: each value in any letter case, no other', () => {
    for (const path of [REPS_URL, '/api/customers']) {
      const { parameters } = (document.paths[path]?.get ?? {}) as unknown as {
        parameters: {
          name: string;
          schema: { type: string; enum?: string[]; pattern?: string };
          examples?: Record<string, { value: string }>;
        }[];
      };
      const parameterOf = (name: string) => parameters.find((parameter) => parameter.name === name);
      // The canonical spellings, listed as the parameter's examples.
      const wordsOf = (name: string) =>
        Object.values(parameterOf(name)?.examples ?? {}).map((example) => example.value);
      for (const name of ['sortOn', 'sortDirection']) {
        const schema = parameterOf(name)?.schema;
        expect(schema?.type, `${path} ${name}`).toBe('string');
        expect(schema?.enum, `${path} ${name}`).toBeUndefined();
        const accepted = new RegExp(schema?.pattern ?? '$^', 'u');
        const words = wordsOf(name);
        expect(words.length).toBeGreaterThan(1);
        for (const word of words) {
          for (const spelling of [word, word.toLowerCase(), word.toUpperCase()]) {
            expect(accepted.test(spelling), `${path} ${name}=${spelling}`).toBe(true);
          }
        }
        for (const refused of ['', 'organizationId', `${words[0]}x`, ` ${words[0]}`]) {
          expect(accepted.test(refused), `${path} ${name}=${refused}`).toBe(false);
        }
      }
      expect(wordsOf('sortOn')).toContain(path === REPS_URL ? 'LastName' : 'CustomerNumber');
      expect(wordsOf('sortDirection')).toEqual(['asc', 'desc']);
    }
  });

  it("declares a new rep's roles as the published API's string[]: no enum, no one-item bound", () => {
    const body = document.paths[REPS_URL]?.put?.requestBody?.content['application/json']?.schema as {
      properties: { roles: { type: string; maxItems: number; items: Record<string, unknown> } };
    };
    const { roles } = body.properties;
    expect(roles.type).toBe('array');
    expect(roles.items).toMatchObject({ type: 'string', pattern: '^(?:SalesRep)$' });
    expect(roles.items.enum).toBeUndefined();
    expect(roles.items.const).toBeUndefined();
    expect(roles.maxItems).toBeGreaterThan(1);
  });

  it('gives a second generator (@hey-api/openapi-ts) the published types: roles string[], sort words as text, the deliveries', async () => {
    const output = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-hey-api-'));
    try {
      await createClient({
        input: fileURLToPath(new URL('../../client/openapi.json', import.meta.url)),
        output,
        logs: { level: 'silent' },
      });
      const types = fs.readFileSync(path.join(output, 'types.gen.ts'), 'utf8');
      expect(types).toMatch(/roles\?: Array<string>;/);
      expect(types).not.toMatch(/roles\?: \[/);
      expect(types).toMatch(/sortOn\?: string;/);
      expect(types).toMatch(/export type ReceiveEventWebhookRequest = /);
      expect(types).toMatch(/export type ReceiveDataSyncChangeWebhookRequest = /);
    } finally {
      fs.rmSync(output, { recursive: true, force: true });
    }
  });

  it('declares a HEAD operation beside every GET: its statuses and headers, without a body', () => {
    const paths = Object.entries(document.paths).filter(([, item]) => item.get);
    expect(paths.length).toBeGreaterThan(5);
    for (const [path, item] of paths) {
      const get = item.get as Operation;
      const head = item.head as Operation | undefined;
      expect(head?.operationId, path).toBe(`${get.operationId}Head`);
      expect(Object.keys(head?.responses ?? {}), path).toEqual(Object.keys(get.responses));
      for (const [status, response] of Object.entries(head?.responses ?? {})) {
        expect(response.content, `${path} ${status}`).toBeUndefined();
        expect(response.headers, `${path} ${status}`).toEqual(get.responses[status]?.headers);
      }
    }
  });

  it('declares 413 and 415 on every operation a body can be sent to', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ['put', 'patch', 'post', 'delete']) {
        const operation = item[method];
        if (!operation) continue;
        expect(Object.keys(operation.responses), `${method.toUpperCase()} ${path}`).toEqual(
          expect.arrayContaining(['413', '415']),
        );
      }
    }
  });

  it('declares 414 on every operation with a path parameter: the router refuses one over 200 characters', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.includes('{')) continue;
      for (const [method, operation] of Object.entries(item)) {
        expect(Object.keys(operation.responses), `${method.toUpperCase()} ${path}`).toContain('414');
      }
    }
  });

  it('bounds organizationSalesRepId at 64 characters wherever a request carries it', () => {
    const bounds: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const schema = operation.requestBody?.content['application/json']?.schema as
          | { properties?: Record<string, { maxLength?: number }> }
          | undefined;
        const parameters = (
          operation as unknown as { parameters?: { name: string; schema: { maxLength?: number } }[] }
        ).parameters;
        const id =
          schema?.properties?.organizationSalesRepId ??
          parameters?.find((parameter) => parameter.name === 'organizationSalesRepId')?.schema;
        if (id) bounds.push(`${method} ${path} ${id.maxLength}`);
      }
    }
    expect(bounds).toContain('post /api/organizations/salesreps/invitation 64');
    expect(bounds.filter((bound) => !bound.endsWith(' 64'))).toEqual([]);
  });

  it('describes event and data-sync deliveries in webhooks: signed POSTs with their payload schemas', () => {
    const webhooks = (document as unknown as { webhooks: Record<string, Record<string, Operation>> })
      .webhooks;
    expect(Object.keys(webhooks)).toEqual(['eventDelivery', 'dataSyncChange']);
    for (const [name, item] of Object.entries(webhooks)) {
      const post = item.post as Operation & { parameters: { name: string; in: string; required: boolean }[] };
      expect(
        post.parameters.map((parameter) => [parameter.name, parameter.in, parameter.required]),
        name,
      ).toEqual([
        ['webhook-id', 'header', true],
        ['webhook-timestamp', 'header', true],
        ['webhook-signature', 'header', true],
      ]);
      const media = post.requestBody?.content['application/json'];
      expect(media?.schema, name).toBeDefined();
      expect(media?.example, name).toMatchObject({ type: expect.any(String), data: expect.any(Object) });
      expect(post.security, name).toEqual([]);
    }
    const event = webhooks.eventDelivery?.post?.requestBody?.content['application/json']?.schema as {
      properties: { data: { properties: Record<string, unknown> } };
    };
    expect(Object.keys(event.properties.data.properties)).toEqual([
      'id',
      'occurredAt',
      'action',
      'actor',
      'targets',
      'organizationId',
      'requestId',
      'changes',
    ]);
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

  it('answers HEAD of a list with the GET status and headers, without a body, as the document declares', async () => {
    const response = await service.call('HEAD', `${REPS_URL}?sortOn=lastname`, admin);
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-total-count']).toBe('0');
    expect(response.headers.link).toContain('rel="first"');
    expect(response.body).toBe('');
  });

  it('answers a body over the limit with 413 on the invitation route too, as declared', async () => {
    const body = { organizationSalesRepId: 'x'.repeat(service.config.bodyLimitBytes) };
    const response = await service.call('POST', `${REPS_URL}/invitation`, admin, body);
    expect(expectProblem(response, 413).type).toBe('urn:salesreps:problem:body-too-large');
  });

  it('refuses an organizationSalesRepId over 64 characters on the invitation route with 400, as elsewhere', async () => {
    for (const url of [`${REPS_URL}/invitation`, `${REPS_URL}/activate`]) {
      const response = await service.call('POST', url, admin, { organizationSalesRepId: 'A'.repeat(65) });
      expect(expectProblem(response, 400).errors, url).toEqual([
        { field: 'organizationSalesRepId', message: expect.any(String) },
      ]);
    }
  });

  it('accepts sortOn and sortDirection in any letter case, as their canonical values', async () => {
    const response = await service.call('GET', `${REPS_URL}?sortOn=lastname&sortDirection=DESC`, admin);
    expect(response.statusCode).toBe(200);
    expect(response.headers.link).toContain('sortOn=LastName&sortDirection=desc');
    const refused = await service.call('GET', `${REPS_URL}?sortOn=organizationId`, admin);
    expect(expectProblem(refused, 400).errors).toEqual([{ field: 'sortOn', message: expect.any(String) }]);
  });
});
