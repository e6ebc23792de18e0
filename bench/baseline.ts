import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { type Database, openDatabase } from '../src/db/database.js';
import type { Organization } from '../src/db/schema.js';
import { localIdentityDirectory } from '../src/identity/from-config.js';
import { addSalesRep } from '../src/salesreps/service.js';

/**
 * The benchmark's baseline: bare node:http (no framework, no token check), running the statements the service runs
 * for each scenario and answering the same JSON and headers — the reads on a bare pg pool, the PUT through the
 * service's own use-case and database layer. Not part of the service. Prints its port on stdout once listening.
 * Environment: DATABASE_URL, PORT (0: any), POOL_SIZE.
 */

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 10),
});

/** The token's claims, read but not verified: the baseline measures the database path only. */
function claims(request: http.IncomingMessage): { UserId: string; org_code: string } {
  const token = request.headers.authorization?.slice('Bearer '.length) ?? '';
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

type OrganizationRow = Organization;

/** Organizations found, remembered for 30 s as the service's lookup remembers them (same statements run). */
const knownOrganizations = new Map<string, { organization: OrganizationRow; until: number }>();

async function organizationOf(identityOrganizationId: string): Promise<OrganizationRow> {
  const known = knownOrganizations.get(identityOrganizationId);
  if (known && known.until > Date.now()) return known.organization;
  const { rows } = await pool.query<OrganizationRow>(
    'select "id", "name", "identity_organization_id", "created_at" from "organization" where "identity_organization_id" = $1',
    [identityOrganizationId],
  );
  if (!rows[0]) throw new Error(`unknown organization ${identityOrganizationId}`);
  knownOrganizations.set(identityOrganizationId, { organization: rows[0], until: Date.now() + 30_000 });
  return rows[0];
}

function send(response: http.ServerResponse, body: unknown, headers: Record<string, string> = {}) {
  const json = JSON.stringify(body);
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    ...headers,
  });
  response.end(json);
}

/** Scenario 1: page 1 (or any page before the first boundary) by rep number, with its total and links. */
async function listSalesReps(request: http.IncomingMessage, response: http.ServerResponse, url: URL) {
  const organization = await organizationOf(claims(request).org_code);
  const pageNumber = Number(url.searchParams.get('pageNumber') ?? 1);
  const pageSize = Number(url.searchParams.get('pageSize') ?? 25);
  // The service's statement: the page and the organization's total in one round trip.
  const page = await pool.query(
    `select c.assignment_count as total, a.organization_id, a.id, a.sales_rep_id, a.first_name, a.last_name,
       a.email, a.phone_number, a.rep_number, a.active
     from organization_assignment_count c
     left join lateral (select id, rep_number as "k0" from organization_sales_rep
           where organization_id = $1 order by rep_number asc limit $2 offset $3) page on true
     left join organization_sales_rep a on a.id = page.id
     where c.organization_id = $1
     order by "page"."k0" asc`,
    [organization.id, pageSize, (pageNumber - 1) * pageSize],
  );
  const total = page.rows[0]?.total ?? 0;
  const rows = page.rows.filter((row) => row.id !== null);
  const lastPage = Math.max(1, Math.ceil(total / pageSize));
  const link = (n: number, rel: string) =>
    `<${url.pathname}?${new URLSearchParams({ pageNumber: String(n), pageSize: String(pageSize), sortOn: 'RepNumber', sortDirection: 'asc' })}>; rel="${rel}"`;
  const links = [link(1, 'first')];
  if (pageNumber > 1) links.push(link(Math.min(pageNumber - 1, lastPage), 'prev'));
  if (pageNumber < lastPage) links.push(link(pageNumber + 1, 'next'));
  links.push(link(lastPage, 'last'));
  send(
    response,
    rows.map((row) => ({
      organizationId: row.organization_id,
      organizationSalesRepId: row.id,
      salesRepId: row.sales_rep_id,
      firstName: row.first_name,
      lastName: row.last_name,
      email: row.email,
      phoneNumber: row.phone_number,
      repNumber: row.rep_number,
      active: row.active,
    })),
    { 'x-total-count': String(total), link: links.join(', ') },
  );
}

/** Scenario 4: the SalesRep policy's assignment check, then the rep's organizations. */
async function myOrganizations(request: http.IncomingMessage, response: http.ServerResponse) {
  const { UserId: userId, org_code: identityOrganizationId } = claims(request);
  const organization = await organizationOf(identityOrganizationId);
  const assignment = await pool.query(
    `select "a"."id", "a"."active", "a"."rep_number" from "organization_sales_rep" as "a"
     inner join "sales_rep" as "r" on "r"."id" = "a"."sales_rep_id"
     where "r"."identity_provider_user_id" = $1 and "a"."organization_id" = $2`,
    [userId, organization.id],
  );
  if (!assignment.rows[0]?.active) throw new Error('not an active rep');
  const { rows } = await pool.query(
    `select "o"."id" as "organization_id", "o"."name" as "organization_name", "o"."identity_organization_id",
       "r"."identity_provider_user_id", "a"."id" as "assignment_id", "r"."id" as "sales_rep_id", "a"."rep_number",
       "a"."first_name", "a"."last_name", "a"."email", "a"."phone_number", "a"."active"
     from "sales_rep" as "r"
     inner join "organization_sales_rep" as "a" on "a"."sales_rep_id" = "r"."id"
     inner join "organization" as "o" on "o"."id" = "a"."organization_id"
     where "r"."identity_provider_user_id" = $1 order by o.name collate "C", "o"."id"`,
    [userId],
  );
  send(response, {
    salesRepOrganizations: rows.map((row) => ({
      organizationId: row.organization_id,
      organizationName: row.organization_name,
      identityOrganizationId: row.identity_organization_id,
      identityProviderUserId: row.identity_provider_user_id,
      organizationSalesRepId: row.assignment_id,
      salesRepId: row.sales_rep_id,
      repNumber: row.rep_number,
      firstName: row.first_name,
      lastName: row.last_name,
      email: row.email,
      phoneNumber: row.phone_number,
      active: row.active,
    })),
  });
}

/**
 * The service's database (its Kysely over a pool of the same size, as `serve` opens it), opened at the first PUT so
 * that the read scenarios run on the bare pool alone.
 */
let serviceDatabase: Promise<Database> | undefined;

/**
 * Scenario 5: the service's own use-case (`addSalesRep`), so that the PUT runs the very statements the service runs
 * — the rep, its assignment, its effects, its event and the event's webhook deliveries, in one transaction — with
 * none of the framework around it: no validation, no token check, no serialization schema, no effect worker.
 */
async function addRep(request: http.IncomingMessage, response: http.ServerResponse) {
  const { UserId: userId, org_code: identityOrganizationId } = claims(request);
  const organization = await organizationOf(identityOrganizationId);
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  serviceDatabase ??= openDatabase({
    databaseUrl: process.env.DATABASE_URL,
    poolSize: Number(process.env.POOL_SIZE ?? 10),
  });
  const { db } = await serviceDatabase;
  const added = await addSalesRep(db, localIdentityDirectory, organization, body, {
    actor: { type: 'user', id: userId },
    requestId: randomUUID(),
  });
  send(response, added);
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://baseline');
  const route = `${request.method} ${url.pathname}`;
  const handled =
    route === 'GET /api/organizations/salesreps'
      ? listSalesReps(request, response, url)
      : route === 'GET /api/salesreps/organizations'
        ? myOrganizations(request, response)
        : route === 'PUT /api/organizations/salesreps'
          ? addRep(request, response)
          : Promise.reject(new Error(`no route ${route}`));
  handled.catch((error: unknown) => {
    response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(String(error));
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void pool.end();
  void serviceDatabase?.then((database) => database.close());
});
