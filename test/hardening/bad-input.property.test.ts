import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { type HardenedService, snapshotTables, startHardenedService } from './support.js';

/** Runs per endpoint and database: enough to hit every generator branch, few enough for well under a minute. */
const RUNS_PER_ENDPOINT = 40;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Operation {
  method: Uppercase<(typeof METHODS)[number]>;
  /** The OpenAPI path, e.g. /api/customers/{customerNumber}. */
  path: string;
  /** Property names of the request body and the query string, to aim the generators at real fields. */
  fields: string[];
}

interface OpenApiDocument {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], OpenApiOperation>>>;
}
interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = item[method];
      if (!operation) return [];
      const bodyFields = Object.keys(
        operation.requestBody?.content?.['application/json']?.schema?.properties ?? {},
      );
      const queryFields = (operation.parameters ?? []).map((parameter) => parameter.name);
      return [
        {
          method: method.toUpperCase() as Operation['method'],
          path,
          fields: [...bodyFields, ...queryFields],
        },
      ];
    }),
  );
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

const hugeString = fc.integer({ min: 10_000, max: 60_000 }).map((length) => 'Ω'.repeat(length));
const unicodeString = fc.string({ unit: 'grapheme', maxLength: 80 });
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: false }),
  unicodeString,
  hugeString,
  fc.constantFrom('', ' ', '\u0000', '\u202e', '𝕏'.repeat(200), 'a@b', 'x'.repeat(300), '-1', '1e309', 'NaN'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 5 }),
  fc.constantFrom(['SalesRep'], ['Admin'], ['SalesRep', 'SalesRep'], [{ key: 'Admin' }]),
);

/** JSON text written by hand, so that keys like __proto__ reach the server as keys of the object sent. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`).join(',')}}`;
}

function bodyText(fields: string[]): fc.Arbitrary<string | undefined> {
  const key = fc.oneof(fc.constantFrom(...fields, ...PROTOTYPE_KEYS), unicodeString);
  const entries = fc.array(fc.tuple(key, junkValue), { maxLength: 8 });
  return fc.oneof(
    { weight: 5, arbitrary: entries.map(objectText) },
    // Nested junk under a prototype key: {"__proto__": {"__proto__": {...}}}.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...PROTOTYPE_KEYS), entries)
        .map(([outer, inner]) => `{"${outer}":${objectText(inner)}}`),
    },
    { weight: 1, arbitrary: junkValue.map((value) => JSON.stringify(value) ?? 'null') },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function queryText(fields: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(fc.constantFrom(...fields, ...PROTOTYPE_KEYS, 'pageSize', 'sortOn'), unicodeString);
  const value = fc.oneof(
    unicodeString,
    fc.integer().map(String),
    fc.constantFrom('', '0', '-1', '1e309', 'x'.repeat(5000)),
  );
  return fc.oneof(
    fc
      .array(fc.tuple(key, value), { maxLength: 6 })
      .map((pairs) =>
        pairs.map(([name, text]) => `${encodeURIComponent(name)}=${encodeURIComponent(text)}`).join('&'),
      ),
    fc.string({ maxLength: 100 }).map((text) => text.replace(/[#\s]/g, '')),
  );
}

const printable = fc.string({ maxLength: 300 }).map((text) => text.replace(/[^\x20-\x7e]/g, ''));

describe.each(databaseKinds)('bad input on every endpoint on %s', (kind) => {
  let service: HardenedService;
  let operations: Operation[];
  let authorizations: fc.Arbitrary<string | undefined>;

  beforeAll(async () => {
    // A limit no run reaches: this suite is about validation, not rate limits.
    service = await startHardenedService(kind, { RATE_LIMIT_MAX: '1000000' });
    const organization = await service.createOrganization();
    const admin = await service.token(organization, 'property-admin', ['Admin']);
    const created = await service.app.inject({
      method: 'PUT',
      url: '/api/organizations/salesreps',
      headers: { authorization: `Bearer ${admin}` },
      payload: { firstName: 'Prop', lastName: 'Erty', email: 'prop@example.com', repNumber: 'P-1' },
    });
    expect(created.statusCode).toBe(200);
    const rep = await service.token(organization, created.json().identityProviderUserId, ['SalesRep']);
    const both = await service.token(organization, created.json().identityProviderUserId, [
      'Admin',
      'SalesRep',
    ]);
    const stranger = await service.token({ ...organization, identity_organization_id: 'org_unknown' }, 'x', [
      'Admin',
    ]);
    const [header, payload] = admin.split('.');
    authorizations = fc.oneof(
      fc.constantFrom(
        `Bearer ${admin}`,
        `Bearer ${rep}`,
        `Bearer ${both}`,
        `Bearer ${stranger}`,
        `Bearer ${header}.${payload}.`,
        `Bearer eyJhbGciOiJub25lIn0.${payload}.`,
        undefined,
        'Basic dXNlcjpwYXNz',
      ),
      printable.map((text) => `Bearer ${text}`),
      printable,
    );
    const document = (
      await service.app.inject({ method: 'GET', url: '/openapi.json' })
    ).json() as OpenApiDocument;
    operations = operationsOf(document);
  });
  afterAll(() => service.close());

  it('reads every endpoint of the app from /openapi.json, the seven sales-rep endpoints among them', () => {
    const names = operations.map((operation) => `${operation.method} ${operation.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /api/salesreps/organizations',
        'GET /api/organizations/salesreps',
        'PUT /api/organizations/salesreps',
        'PATCH /api/organizations/salesreps',
        'POST /api/organizations/salesreps/activate',
        'POST /api/organizations/salesreps/deactivate',
        'DELETE /api/organizations/salesreps',
      ]),
    );
  });

  it('never answers 5xx, answers every error as problem+json, and writes nothing on any 4xx', {
    timeout: 120_000,
  }, async () => {
    let before = await snapshotTables(service.db);
    for (const operation of operations) {
      const request = fc.record({
        pathValues: fc.array(
          fc.oneof(unicodeString, printable, fc.constantFrom('..', '%', '0', 'x'.repeat(250))),
          {
            minLength: 4,
            maxLength: 4,
          },
        ),
        query: queryText(operation.fields),
        body: bodyText(operation.fields),
        authorization: authorizations,
        contentType: fc.oneof(
          fc.constantFrom(
            'application/json',
            'application/json; charset=utf-8',
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=latin1',
            undefined,
          ),
          printable,
        ),
        requestId: fc.option(printable),
        accept: fc.option(printable),
      });
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          let index = 0;
          const path = operation.path.replace(/\{[^}]+\}/g, () =>
            encodeURIComponent(input.pathValues[index++] ?? ''),
          );
          const headers: Record<string, string> = {};
          if (input.authorization !== undefined) headers.authorization = input.authorization;
          if (input.contentType !== undefined) headers['content-type'] = input.contentType;
          if (input.requestId !== null) headers['x-request-id'] = input.requestId;
          if (input.accept !== null) headers.accept = input.accept;
          const response: LightMyRequestResponse = await service.app.inject({
            method: operation.method,
            url: input.query ? `${path}?${input.query}` : path,
            headers,
            ...(input.body === undefined ? {} : { payload: input.body }),
          });
          const what = `${operation.method} ${path} answered ${response.statusCode}: ${response.body.slice(0, 300)}`;
          expect(response.statusCode, what).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(response.headers['content-type'], what).toContain('application/problem+json');
            const problem = response.json();
            expect(problem.status, what).toBe(response.statusCode);
            expect(problem.requestId, what).toBe(response.headers['x-request-id']);
            expect(await snapshotTables(service.db), what).toEqual(before);
          } else {
            before = await snapshotTables(service.db);
          }
        }),
        { numRuns: RUNS_PER_ENDPOINT },
      );
    }
  });
});
