import type { LocalIssuer } from './auth/local-issuer.js';
import { ROLE_ADMIN } from './auth/policies.js';
import type { Db } from './db/database.js';
import { createOrganization } from './organizations/service.js';

export const DEMO_ORGANIZATION = { name: 'Demo Distributors', identityOrganizationId: 'demo_org' } as const;
export const DEMO_ADMIN_USER = 'demo_admin';
/** The demo token's lifetime: a day, or the service's maximum lifetime if that is shorter. */
const DEMO_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/**
 * On the first start with empty data: a demo organization, and once, an Admin token for it with a curl line to
 * paste, so that a newcomer can call the API at once.
 */
export async function createDemoOrganizationIfEmpty(
  db: Db,
  issuer: LocalIssuer,
  baseUrl: string,
  maxTokenLifetimeSeconds: number,
): Promise<void> {
  const existing = await db.selectFrom('organization').select('id').limit(1).executeTakeFirst();
  if (existing) return;
  await createOrganization(db, DEMO_ORGANIZATION);
  const ttlSeconds = Math.min(DEMO_TOKEN_TTL_SECONDS, maxTokenLifetimeSeconds);
  const token = await issuer.sign(
    { userId: DEMO_ADMIN_USER, organization: DEMO_ORGANIZATION.identityOrganizationId, roles: [ROLE_ADMIN] },
    ttlSeconds,
  );
  process.stdout.write(
    [
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
    ].join('\n'),
  );
}
