import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';

/**
 * The benchmark's baseline: bare node:http and a pg pool (no framework, no query builder, no token check), running
 * the statements the service runs for each scenario and answering the same JSON and headers. Not part of the
 * service. Prints its port on stdout once listening. Environment: DATABASE_URL, PORT (0: any), POOL_SIZE.
 */

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 10),
});

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function newId(): string {
  const bytes = randomBytes(22);
  let id = '';
  for (const byte of bytes) id += BASE62[byte % 62];
  return id;
}

/** The token's claims, read but not verified: the baseline measures the database path only. */
function claims(request: http.IncomingMessage): { UserId: string; org_code: string } {
  const token = request.headers.authorization?.slice('Bearer '.length) ?? '';
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

interface OrganizationRow {
  id: string;
  name: string;
  identity_organization_id: string;
}

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

/** Scenario 5: the rep, its assignment and its three effects, in one transaction. */
async function addSalesRep(request: http.IncomingMessage, response: http.ServerResponse) {
  const organization = await organizationOf(claims(request).org_code);
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const client = await pool.connect();
  try {
    await client.query('begin');
    const rep = (
      await client.query(
        `insert into "sales_rep" ("id", "email", "identity_provider_user_id", "created_at")
         values ($1, $2, $3, $4) on conflict (lower(email)) do nothing returning *`,
        [newId(), body.email, `local_${newId()}`, new Date()],
      )
    ).rows[0];
    const assignment = (
      await client.query(
        `insert into "organization_sales_rep" ("id", "organization_id", "sales_rep_id", "rep_number", "roles",
           "first_name", "last_name", "first_name_search", "last_name_search", "email", "phone_number")
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         returning *`,
        [
          newId(),
          organization.id,
          rep.id,
          body.repNumber,
          ['SalesRep'],
          body.firstName,
          body.lastName,
          // The service's search keys (src/kernel/search.ts).
          body.firstName.normalize('NFC').toLowerCase(),
          body.lastName.normalize('NFC').toLowerCase(),
          body.email,
          body.phoneNumber ?? null,
        ],
      )
    ).rows[0];
    const invitation = {
      to: assignment.email,
      firstName: assignment.first_name,
      lastName: assignment.last_name,
      organizationName: organization.name,
      identityOrganizationId: organization.identity_organization_id,
      repNumber: assignment.rep_number,
    };
    const effects = [
      [
        'identity.provision',
        {
          identityProviderUserId: rep.identity_provider_user_id,
          email: assignment.email,
          firstName: assignment.first_name,
          lastName: assignment.last_name,
          identityOrganizationId: organization.identity_organization_id,
          roles: ['SalesRep'],
        },
      ],
      ['email.welcome', invitation],
      [
        'sync.grant',
        {
          salesRepId: rep.id,
          organizationId: organization.id,
          repNumber: assignment.rep_number,
          email: assignment.email,
        },
      ],
    ] as const;
    await client.query(
      `insert into "effect" ("organization_id", "ordering_key", "channel", "sales_rep_id", "kind", "payload")
       values ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12), ($13, $14, $15, $16, $17, $18)`,
      effects.flatMap(([kind, payload]) => [
        organization.id,
        rep.id,
        kind.split('.')[0],
        rep.id,
        kind,
        JSON.stringify(payload),
      ]),
    );
    await client.query('commit');
    send(response, {
      organizationId: organization.id,
      organizationName: organization.name,
      organizationSalesRepId: assignment.id,
      salesRepId: rep.id,
      firstName: assignment.first_name,
      lastName: assignment.last_name,
      email: assignment.email,
      phoneNumber: assignment.phone_number,
      repNumber: assignment.rep_number,
      identityProvider: 'Local',
      identityProviderUserId: rep.identity_provider_user_id,
    });
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
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
          ? addSalesRep(request, response)
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
});
