// SCIM tokens as the auth hook checks them: the secret's form, its hash, and the directory it admits.
import { createHash, randomBytes } from 'node:crypto';
import type { Executor } from '../db/database.js';
import { unauthorized } from '../kernel/problem.js';
import type { RequestAuth } from './policies.js';

/** Every SCIM token starts so: a reader (and a secret scanner) tells it from an API token at a glance. */
const SCIM_TOKEN_PREFIX = 'scim_';
const SCIM_TOKEN_FORM = /^scim_[A-Za-z0-9_-]{43}$/;

/** A new SCIM token: the prefix and 32 random bytes, base64url. */
export function newScimToken(): string {
  return `${SCIM_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** What is stored of a token: its SHA-256 (a 256-bit random secret needs no slow hash). */
export function hashScimToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * The caller of a SCIM request: the organization of the token, looked up by the token's hash on every request, so a
 * revoked token is refused at once. An API token (a JWT) is no SCIM token, and answers 401 like any unknown one.
 * The principal's user id, `scim:<token id>`, keys the rate limit per token.
 */
export async function authorizeScim(db: Executor, token: string): Promise<RequestAuth> {
  const row = SCIM_TOKEN_FORM.test(token)
    ? await db
        .selectFrom('scim_token as t')
        .innerJoin('organization as o', 'o.id', 't.organization_id')
        .select(['t.id as token_id', 'o.id', 'o.name', 'o.identity_organization_id', 'o.created_at'])
        .where('t.token_hash', '=', hashScimToken(token))
        .executeTakeFirst()
    : undefined;
  if (!row) throw unauthorized('The SCIM token is not valid (revoked, or not a SCIM token).');
  const { token_id: tokenId, ...organization } = row;
  return {
    principal: {
      userId: `scim:${tokenId}`,
      identityOrganizationId: organization.identity_organization_id,
      roles: new Set(),
      dpopKey: undefined,
    },
    organization,
    scimTokenId: tokenId,
  };
}
