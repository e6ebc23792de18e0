import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Organization } from '../../src/db/schema.js';
import { localIssuerKey, signToken, standardClaims } from '../auth/support.js';
import { databaseKinds } from '../support/databases.js';
import { type HardenedService, snapshotTables, startHardenedService } from './support.js';

const CUSTOMERS = '/api/customers';
const REPS = '/api/organizations/salesreps';
const METRICS_TOKEN = 'metrics-token-abcdefghijkl';
const DAY = 24 * 60 * 60;

/** A customer with about 300 bad fields: every top-level field, 20 addresses and 40 contacts, all wrong. */
function badCustomer(index: number) {
  return {
    customerNumber: ' ',
    companyName: '',
    companyEmail: 'x',
    companyPhone: '',
    pricing: ' ',
    terms: '',
    active: 'x',
    repNumber: ' ',
    externalId: ' ',
    note: index,
    addresses: Array.from({ length: 20 }, () => ({
      label: '',
      line1: '',
      line2: '',
      city: '',
      region: '',
      postalCode: '',
      country: '',
    })),
    contacts: Array.from({ length: 40 }, () => ({ name: '', title: '', email: 'x', phone: '' })),
  };
}

interface ProblemJson {
  type: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
  omittedErrors?: number;
}

/** Sends raw bytes and collects the whole answer (the request asks the server to close the connection). */
function rawExchange(port: number, request: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('close', () => {
      const split = answer.indexOf('\r\n\r\n');
      resolve({ head: answer.slice(0, split), body: answer.slice(split + 4) });
    });
    socket.on('error', reject);
  });
}

const headerOf = (head: string, name: string) =>
  head.match(new RegExp(`^${name}: ([^\\r\\n]*)`, 'im'))?.[1] ?? '';

describe.each(databaseKinds)('abuse, second round, on %s', (kind) => {
  let service: HardenedService;
  let organization: Organization;
  let admin: string;
  let repToken: string;
  let port: number;

  beforeAll(async () => {
    service = await startHardenedService(kind, { RATE_LIMIT_MAX: '100000' });
    organization = await service.createOrganization();
    admin = await service.token(organization, 'abuse-admin', ['Admin']);
    const rep = await service.app.inject({
      method: 'PUT',
      url: REPS,
      headers: { authorization: `Bearer ${admin}` },
      payload: { firstName: 'Sam', lastName: 'Rep', email: 'sam.rep@abuse.example', repNumber: 'R-1' },
    });
    expect(rep.statusCode, rep.body).toBe(200);
    repToken = await service.token(organization, rep.json().identityProviderUserId, ['SalesRep']);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    port = (service.app.server.address() as AddressInfo).port;
  });
  afterAll(() => service.close());

  const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, token: string, payload?: unknown) =>
    service.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  describe('amplified bulk errors', () => {
    const attack = JSON.stringify(Array.from({ length: 1000 }, (_, i) => badCustomer(i)));

    const putAttack = async () => {
      const response = await fetch(`http://127.0.0.1:${port}${CUSTOMERS}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: attack,
      });
      return { status: response.status, body: await response.text() };
    };

    it('answers 1,000 bad import items with the first 100 errors, the rest counted in omittedErrors', async () => {
      const before = await snapshotTables(service.db);
      const answer = await putAttack();
      expect(answer.status).toBe(400);
      // Unbounded, this answer was about 35 MB.
      expect(answer.body.length).toBeLessThan(64 * 1024);
      const problem = JSON.parse(answer.body) as ProblemJson;
      expect(problem.type).toBe('urn:salesreps:problem:validation');
      expect(problem.errors).toHaveLength(100);
      expect(problem.errors?.[0]?.field).toMatch(/^\[0\]\./);
      // Every other item is bad too: each counts at least once.
      expect(problem.omittedErrors).toBeGreaterThanOrEqual(999);
      expect(problem.detail.length).toBeLessThanOrEqual(500);
      expect(problem.detail).toMatch(/ and \d+ more\.$/);
      expect(await snapshotTables(service.db)).toEqual(before);
    });

    it('keeps /healthz answering while four such imports are in flight', async () => {
      const latencies: number[] = [];
      let attacking = true;
      const attacks = Promise.all([putAttack(), putAttack(), putAttack(), putAttack()]).finally(() => {
        attacking = false;
      });
      while (attacking) {
        const started = performance.now();
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const answers = await attacks;
      expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 400]);
      // A generous bound on a loaded machine: unbounded, one probe waited 5–12 s behind the attack.
      expect(Math.max(...latencies)).toBeLessThan(5000);
    });

    it('answers a single customer with 100,000 bad addresses with a bounded report', async () => {
      const response = await call('PUT', CUSTOMERS, admin, {
        customerNumber: 'ONE',
        companyName: 'One',
        addresses: Array.from({ length: 100_000 }, () => ({})),
      });
      expect(response.statusCode).toBe(400);
      expect(response.body.length).toBeLessThan(64 * 1024);
      expect((response.json() as ProblemJson).errors?.length).toBeLessThanOrEqual(100);
    });

    it('bounds the echo of an unknown query parameter in errors and detail', async () => {
      const name = 'x'.repeat(5000);
      const response = await call('GET', `${CUSTOMERS}?${name}=1`, admin);
      expect(response.statusCode).toBe(400);
      const problem = response.json() as ProblemJson;
      expect(problem.errors?.[0]?.message).toBe('is not a known field');
      expect(problem.errors?.[0]?.field.length).toBeLessThanOrEqual(200);
      expect(problem.detail.length).toBeLessThanOrEqual(500);
    });

    it('declares omittedErrors and the bound of errors in the Problem schema of the OpenAPI document', async () => {
      const document = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const problem = document.components.schemas.Problem;
      expect(problem.properties.omittedErrors).toMatchObject({ type: 'integer', minimum: 1 });
      expect(problem.properties.errors.maxItems).toBe(100);
    });
  });

  describe('text the database refuses', () => {
    const customer = { customerNumber: 'TXT-1', companyName: 'Text Supplies' };
    const fieldsOf = (body: string) => ((JSON.parse(body) as ProblemJson).errors ?? []).map((e) => e.field);

    it.each([
      [
        'NUL in a customer attribute',
        { customerAttributes: { tier: 'gold\u0000' } },
        'customerAttributes.tier',
      ],
      [
        'a lone surrogate in an address line',
        { addresses: [{ line1: '1 Main \ud800St' }] },
        'addresses[0].line1',
      ],
      [
        'a lone surrogate in a contact title',
        { contacts: [{ name: 'Pat', title: '\udc00' }] },
        'contacts[0].title',
      ],
      ['NUL in an attribute value of an import item', null, '[1].customerAttributes.k'],
      ['NUL in a field name', { 'odd\u0000': 1 }, 'body'],
    ])('refuses %s with 400 naming the field', async (_case, change, field) => {
      const before = await snapshotTables(service.db);
      const body =
        change === null
          ? [customer, { ...customer, customerNumber: 'TXT-2', customerAttributes: { k: '\u0000' } }]
          : { ...customer, ...change };
      const response = await call('PUT', CUSTOMERS, admin, body);
      expect(response.statusCode, response.body).toBe(400);
      expect(fieldsOf(response.body)).toContain(field);
      expect(await snapshotTables(service.db)).toEqual(before);
    });

    it('refuses NUL in a search with a SalesRep token; an escaped surrogate arrives as U+FFFD', async () => {
      const nul = await call('GET', `${CUSTOMERS}?search=a%00b`, repToken);
      expect(nul.statusCode, nul.body).toBe(400);
      expect(fieldsOf(nul.body)).toEqual(['search']);
      // A surrogate escaped in a URL (CESU-8, %ED%A0%80) is not UTF-8: the query parser makes it U+FFFD.
      const escaped = await call('GET', `${CUSTOMERS}?search=a%ED%A0%80`, repToken);
      expect(escaped.statusCode, escaped.body).toBe(200);
    });

    it('refuses NUL in a rep id in the DELETE query and body, and a lone surrogate in a rep name', async () => {
      const query = await call('DELETE', `${REPS}?organizationSalesRepId=a%00`, admin);
      expect(query.statusCode, query.body).toBe(400);
      expect(fieldsOf(query.body)).toEqual(['organizationSalesRepId']);
      const body = await call('DELETE', REPS, admin, { organizationSalesRepId: 'a\u0000' });
      expect(body.statusCode, body.body).toBe(400);
      expect(fieldsOf(body.body)).toEqual(['organizationSalesRepId']);
      const name = await call('PUT', REPS, admin, {
        firstName: 'Ann\ud800',
        lastName: 'Lee',
        email: 'ann.lee@abuse.example',
        repNumber: 'R-9',
      });
      expect(name.statusCode, name.body).toBe(400);
      expect(fieldsOf(name.body)).toEqual(['firstName']);
    });

    it('refuses with 401 a token whose user or organization claim holds NUL or an unpaired surrogate', async () => {
      const nulUser = await service.token(organization, 'admin\u0000', ['Admin']);
      const surrogateOrg = await service.issuer.sign(
        { userId: 'abuse-admin', organization: 'org_\ud800', roles: ['Admin'] },
        600,
      );
      for (const token of [nulUser, surrogateOrg]) {
        const response = await call('GET', REPS, token);
        expect(response.statusCode, response.body).toBe(401);
        expect(response.json().detail).toMatch(/claim holds characters that are not allowed/);
      }
    });

    it.each([
      ['a C1 control in the company name', { companyName: 'Acme\u0085Tools' }, 'companyName'],
      [
        'a company name of zero-width characters only',
        { companyName: '\u200b\u200c\u200d\ufeff' },
        'companyName',
      ],
      ['a contact name of a zero-width joiner', { contacts: [{ name: '\u200d' }] }, 'contacts[0].name'],
      ['a C1 control in a phone', { companyPhone: '555\u009b0100' }, 'companyPhone'],
    ])('refuses %s in customer text', async (_case, change, field) => {
      const response = await call('PUT', CUSTOMERS, admin, { ...customer, ...change });
      expect(response.statusCode, response.body).toBe(400);
      expect(fieldsOf(response.body)).toEqual([field]);
    });

    it('still stores text with zero-width joiners inside visible characters', async () => {
      const response = await call('PUT', CUSTOMERS, admin, {
        ...customer,
        customerNumber: 'TXT-OK',
        companyName: 'Dev 👩‍💻 Shop',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().companyName).toBe('Dev 👩‍💻 Shop');
    });
  });

  describe('token times', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const tokenWith = async (times: { iat?: number; exp: number }) => {
      const { key, kid } = await localIssuerKey(service.config);
      const { iat: _iat, ...claims } = standardClaims(service.config, {
        userId: 'abuse-admin',
        organization: organization.identity_organization_id,
        roles: ['Admin'],
      });
      return signToken(key, { alg: 'ES256', kid }, { ...claims, ...times });
    };
    const statusWith = async (times: { iat?: number; exp: number }) =>
      (await call('GET', REPS, await tokenWith(times))).statusCode;

    it('refuses an iat beyond the clock tolerance in the future, and accepts one within it', async () => {
      const tenYears = 10 * 365 * DAY;
      const refused = await call(
        'GET',
        REPS,
        await tokenWith({ iat: now() + tenYears, exp: now() + tenYears + 600 }),
      );
      expect(refused.statusCode).toBe(401);
      expect(refused.json().detail).toBe('The token\'s "iat" claim is in the future.');
      expect(await statusWith({ iat: now() + 10, exp: now() + 600 })).toBe(200);
    });

    it('refuses a lifetime beyond the 24 h default, with or without iat, and accepts 24 h exactly', async () => {
      const year33000 = Math.floor(Date.UTC(33_000, 0, 1) / 1000);
      const forever = await call('GET', REPS, await tokenWith({ iat: now(), exp: year33000 }));
      expect(forever.statusCode).toBe(401);
      expect(forever.json().detail).toMatch(/lasts longer than the 86400 s/);
      expect(await statusWith({ iat: now(), exp: now() + DAY + 1 })).toBe(401);
      expect(await statusWith({ exp: now() + DAY + 120 })).toBe(401);
      expect(await statusWith({ iat: now(), exp: now() + DAY })).toBe(200);
      expect(await statusWith({ exp: now() + DAY - 120 })).toBe(200);
    });

    it('takes the maximum from AUTH_MAX_TOKEN_LIFETIME_SECONDS, validated at start', async () => {
      const strict = await service.replica({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600' });
      const twoHours = await tokenWith({ iat: now(), exp: now() + 7200 });
      const refused = await strict.app.inject({
        method: 'GET',
        url: REPS,
        headers: { authorization: `Bearer ${twoHours}` },
      });
      expect(refused.statusCode).toBe(401);
      expect(await statusWith({ iat: now(), exp: now() + 7200 })).toBe(200);
      expect(loadConfig({}).auth.maxTokenLifetimeSeconds).toBe(DAY);
      for (const bad of ['0', '299', '2592001', 'a day']) {
        expect(() => loadConfig({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: bad })).toThrow(
          /AUTH_MAX_TOKEN_LIFETIME_SECONDS must be an integer from 300 to 2592000/,
        );
      }
    });
  });

  describe('links and echoes of an absolute-form request target', () => {
    const absolute = (path: string, token: string) =>
      rawExchange(
        port,
        `GET http://evil.example${path} HTTP/1.1\r\nHost: evil.example\r\n` +
          `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );

    it.each([
      [CUSTOMERS, `${CUSTOMERS}?pageSize=1&search=Text`],
      [REPS, `${REPS}?pageSize=1`],
    ])('builds the Link header of %s from the route and query only', async (path, target) => {
      const answer = await absolute(target, admin);
      expect(answer.head).toMatch(/^HTTP\/1\.1 200 /);
      const link = headerOf(answer.head, 'link');
      expect(link).toContain(`<${path}?pageNumber=1&pageSize=1`);
      expect(link).not.toContain('evil.example');
      for (const target of link.matchAll(/<([^>]*)>/g)) expect(target[1]?.startsWith(`${path}?`)).toBe(true);
    });

    it('names only the path in the 404 of an absolute-form target', async () => {
      const answer = await absolute('/no-such-route?x=1', admin);
      expect(answer.head).toMatch(/^HTTP\/1\.1 404 /);
      expect(JSON.parse(answer.body).detail).toBe('No route GET /no-such-route.');
    });
  });

  describe('smaller', () => {
    it('limits /metrics per address on the public port: guesses run into 429, and so does the right token', async () => {
      const guarded = await service.replica({ METRICS_TOKEN, RATE_LIMIT_MAX: '5' });
      const scrape = (token: string, remoteAddress: string) =>
        guarded.app.inject({
          method: 'GET',
          url: '/metrics',
          remoteAddress,
          headers: { authorization: `Bearer ${token}` },
        });
      for (let guess = 0; guess < 5; guess++) {
        expect((await scrape(`guess-${guess}-0123456789abc`, '198.51.100.7')).statusCode).toBe(401);
      }
      const limited = await scrape('guess-5-0123456789abc', '198.51.100.7');
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect((await scrape(METRICS_TOKEN, '198.51.100.7')).statusCode).toBe(429);
      expect((await scrape(METRICS_TOKEN, '198.51.100.8')).statusCode).toBe(200);
      // The address's other requests have a count of their own.
      expect(
        (await guarded.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.7' }))
          .statusCode,
      ).toBe(200);
    });

    it.each([
      [
        'a doubly encoded email',
        `${CUSTOMERS}?search=jane.doe%2540mail.example`,
        ['jane.doe', 'mail.example'],
      ],
      ['a +-spaced phone', `${CUSTOMERS}?search=%2B1+555+867+5309`, ['867', '5309']],
      [
        'jwt, pwd, pass, session and credential parameters',
        `${CUSTOMERS}?jwt=j1secret&pwd=p2secret&pass=p3secret&session=s4secret&credential=c5secret`,
        ['j1secret', 'p2secret', 'p3secret', 's4secret', 'c5secret'],
      ],
      [
        'a JWT in the path',
        `${CUSTOMERS}/eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJlc2ln`,
        ['eyJhbGciOiJFUzI1NiJ9', 'c2lnbmF0dXJlc2ln'],
      ],
      ['a secret holding an encoded &', `${CUSTOMERS}?token=first%26second`, ['first', 'second']],
    ])('scrubs %s from the request log line', async (_case, url, secrets) => {
      await call('GET', url, admin);
      const line = service.log.lines.filter((entry) => entry.msg === 'request').at(-1);
      expect(line).toBeDefined();
      const logged = String(line?.url);
      expect(logged.startsWith('/api/customers')).toBe(true);
      for (const secret of secrets) expect(logged).not.toContain(secret);
    });

    it('answers an HTTP/1.1 request without Host with 400 problem+json, and lets HTTP/1.0 through', async () => {
      const answer = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
      expect(answer.head).toMatch(/^HTTP\/1\.1 400 /);
      expect(headerOf(answer.head, 'content-type')).toContain('application/problem+json');
      expect(JSON.parse(answer.body)).toMatchObject({
        status: 400,
        type: 'urn:salesreps:problem:missing-host',
      });
      const old = await rawExchange(port, 'GET /healthz HTTP/1.0\r\n\r\n');
      expect(old.head).toMatch(/^HTTP\/1\.1 200 /);
    });

    it('redirects /docs/static/index.html with a query to the docs page, not to itself', async () => {
      const response = await service.app.inject({ method: 'GET', url: '/docs/static/index.html?x' });
      expect(response.statusCode).toBe(302);
      expect(response.headers.location).toBe('/docs/');
      expect((await service.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
    });
  });
});
