import fs from 'node:fs';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { LocalIssuer } from './auth/local-issuer.js';
import { ROLE_ADMIN } from './auth/roles.js';
import type { Db } from './db/database.js';
import { createOrganization } from './organizations/service.js';

const DEMO_ORGANIZATION = { name: 'Demo Distributors', identityOrganizationId: 'demo_org' } as const;
const DEMO_ADMIN_USER = 'demo_admin';
/** The demo admin invited to the embedded sign-in (a reserved example domain: the mail goes nowhere). */
export const DEMO_ADMIN_EMAIL = 'admin@demo.example';
/** The demo token's lifetime: a day, or the service's maximum lifetime if that is shorter. */
const DEMO_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/**
 * On the first start with empty data: a demo organization, and once, an Admin token for it with curl lines to
 * paste, so that a newcomer can call the API at once. The token never goes to the log on stdout (one JSON line
 * per event, which a log shipper captures) nor to the terminal: it is written to `DATA_DIR/demo.txt` (readable by
 * the owner only), which the log line names. A terminal gets one short block on stderr: the console's address, the
 * demo admin's set-password link and the file's path. Answers the file's path.
 */
export async function createDemoOrganizationIfEmpty(
  db: Db,
  issuer: LocalIssuer,
  baseUrl: string,
  consoleUrl: string,
  maxTokenLifetimeSeconds: number,
  dataDir: string,
  log: FastifyBaseLogger,
  inviteAdmin?: (input: {
    identityOrganizationId: string;
    email: string;
  }) => Promise<{ link: string | undefined }>,
): Promise<string | undefined> {
  const existing = await db.selectFrom('organization').select('id').limit(1).executeTakeFirst();
  if (existing) return;
  await createOrganization(db, DEMO_ORGANIZATION);
  const ttlSeconds = Math.min(DEMO_TOKEN_TTL_SECONDS, maxTokenLifetimeSeconds);
  const token = await issuer.sign(
    { userId: DEMO_ADMIN_USER, organization: DEMO_ORGANIZATION.identityOrganizationId, roles: [ROLE_ADMIN] },
    ttlSeconds,
  );
  const invited = await inviteAdmin?.({
    identityOrganizationId: DEMO_ORGANIZATION.identityOrganizationId,
    email: DEMO_ADMIN_EMAIL,
  });
  const signinLines = invited?.link
    ? [
        `Sign in as the demo admin (${DEMO_ADMIN_EMAIL}): open this single-use link and set a password:`,
        `  ${invited.link}`,
        `  (then any relying party signs in through ${baseUrl}/.well-known/openid-configuration)`,
        '',
      ]
    : [];
  const text = [
    '',
    `Demo organization "${DEMO_ORGANIZATION.name}" created (identity organization id ${DEMO_ORGANIZATION.identityOrganizationId}).`,
    `Admin token, valid ${Number((ttlSeconds / 3600).toFixed(2))} hours (shown once; mint another with`,
    `  npx salesreps token --org ${DEMO_ORGANIZATION.identityOrganizationId} --user ${DEMO_ADMIN_USER} --role Admin):`,
    '',
    token,
    '',
    'Try it:',
    `  curl -s -X PUT ${baseUrl}/api/organizations/salesreps -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" -d '{"firstName":"Jane","lastName":"Smith","email":"jane@example.com","repNumber":"REP-001"}'`,
    `  curl -s ${baseUrl}/api/organizations/salesreps -H "Authorization: Bearer ${token}"`,
    `API reference: ${baseUrl}/docs`,
    '',
    ...signinLines,
  ].join('\n');
  const file = path.join(dataDir, 'demo.txt');
  fs.writeFileSync(file, text, { mode: 0o600 });
  log.info(
    { file, organization: DEMO_ORGANIZATION.identityOrganizationId },
    `demo organization created; its Admin token and curl lines are in ${file}`,
  );
  if (process.stderr.isTTY) process.stderr.write(terminalBlock(consoleUrl, invited?.link, file));
  return file;
}

/** What a person at the terminal needs to begin: where to click, and where the rest is. No token: it is long. */
function terminalBlock(consoleUrl: string, link: string | undefined, file: string): string {
  return [
    '',
    `Sales Reps is running, with the demo organization "${DEMO_ORGANIZATION.name}".`,
    `  Console:    ${consoleUrl}`,
    ...(link
      ? [`  Demo admin: ${DEMO_ADMIN_EMAIL}; set a password (single-use link):`, `              ${link}`]
      : []),
    `  An Admin token for the API, and curl lines to try it: ${file}`,
    '',
    '',
  ].join('\n');
}
