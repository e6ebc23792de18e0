// The Kinde management API client and the identity provider built on it.
import { PermanentEffectError, RetryLaterError, retryAfterMs } from '../kernel/remote-errors.js';
import type { IdentityProvider } from './port.js';

export interface KindeSettings {
  /** The base URL, e.g. https://acme.kinde.com. */
  domain: string;
  clientId: string;
  clientSecret: string;
  audience: string;
  callTimeoutMs: number;
}

interface KindeUser {
  id: string;
  email?: string;
  organizations?: string[];
}

/** A token is renewed this long before Kinde says it expires, so no call goes out with one about to lapse. */
const TOKEN_RENEW_BEFORE_MS = 60_000;
/** When a 429 names no wait. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 5_000;

/**
 * The parts of Kinde's Management API the effects use (the operations copied into test/fixtures/kinde/). Every call
 * has a time-out; a 429 becomes a RetryLaterError with the wait Kinde asks for; a 4xx other than 401/404/429 is a
 * request Kinde will never accept, so the effect goes dead at once.
 */
export function kindeClient(settings: KindeSettings) {
  let cached: { token: string; renewAt: number } | undefined;

  /** Each call's own time-out, and the effect's deadline when the call is made for an effect. */
  const callSignal = (deadline: AbortSignal | undefined) => {
    const timeout = AbortSignal.timeout(settings.callTimeoutMs);
    return deadline ? AbortSignal.any([timeout, deadline]) : timeout;
  };

  async function accessToken(deadline: AbortSignal | undefined): Promise<string> {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const response = await fetch(`${settings.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: settings.clientId,
        client_secret: settings.clientSecret,
        audience: settings.audience,
      }),
      signal: callSignal(deadline),
    });
    await throwUnlessOk(response, 'POST /oauth2/token');
    const body = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') throw new Error('Kinde token response holds no access_token');
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    cached = {
      token: body.access_token,
      renewAt: Date.now() + Math.max(lifetimeMs - TOKEN_RENEW_BEFORE_MS, lifetimeMs / 2),
    };
    return cached.token;
  }

  async function call<T>(
    deadline: AbortSignal | undefined,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const token = await accessToken(deadline);
    const response = await fetch(`${settings.domain}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: callSignal(deadline),
    });
    if (response.status === 401) cached = undefined;
    await throwUnlessOk(response, `${method} ${path.split('?')[0]}`);
    return (await response.json()) as T;
  }

  async function findUser(
    filter: { email: string } | { user_id: string },
    deadline?: AbortSignal,
  ): Promise<KindeUser | undefined> {
    const query = new URLSearchParams({ ...filter, expand: 'organizations' });
    const { users } = await call<{ users?: KindeUser[] }>(deadline, 'GET', `/api/v1/users?${query}`);
    return users?.[0];
  }

  return {
    findUser,
    async findOrCreateUser(
      user: { email: string; firstName: string; lastName: string },
      deadline?: AbortSignal,
    ): Promise<string> {
      const existing = await findUser({ email: user.email }, deadline);
      if (existing) return existing.id;
      const created = await call<{ id?: string }>(deadline, 'POST', '/api/v1/user', {
        profile: { given_name: user.firstName, family_name: user.lastName },
        identities: [{ type: 'email', details: { email: user.email } }],
      });
      if (!created.id) throw new Error('Kinde created a user but returned no id');
      return created.id;
    },
    async addToOrganization(userId: string, orgCode: string, roles: string[], deadline: AbortSignal) {
      await call(deadline, 'POST', `/api/v1/organizations/${encodeURIComponent(orgCode)}/users`, {
        users: [{ id: userId, roles }],
      });
    },
    async removeFromOrganization(userId: string, orgCode: string, deadline: AbortSignal) {
      await call(
        deadline,
        'DELETE',
        `/api/v1/organizations/${encodeURIComponent(orgCode)}/users/${encodeURIComponent(userId)}`,
      );
    },
    async deleteUser(userId: string, deadline: AbortSignal) {
      await call(deadline, 'DELETE', `/api/v1/user?${new URLSearchParams({ id: userId })}`);
    },
  };
}

export type KindeClient = ReturnType<typeof kindeClient>;

async function throwUnlessOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  const detail = `Kinde answered ${response.status} to ${what}: ${(await response.text()).slice(0, 300)}`;
  if (response.status === 429) {
    throw new RetryLaterError(detail, retryAfterMs(response.headers, DEFAULT_RATE_LIMIT_WAIT_MS));
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 404) {
    throw new PermanentEffectError(detail);
  }
  throw new Error(detail);
}

/**
 * IDP=kinde. Deactivation removes the user from the one organization: Kinde's is_suspended would lock the user out
 * of every organization. Each operation reads the user's organizations first, so a repeat changes nothing.
 */
export function kindeIdentityProvider(client: KindeClient): IdentityProvider {
  return {
    ensureUser: (user, deadline) => client.findOrCreateUser(user, deadline),
    async addMembership(userId, orgCode, roles, deadline) {
      const user = await client.findUser({ user_id: userId }, deadline);
      if (!user) throw new Error(`Kinde has no user ${userId}`);
      if (user.organizations?.includes(orgCode)) return;
      await client.addToOrganization(userId, orgCode, roles, deadline);
    },
    async removeMembership(userId, orgCode, deadline) {
      const user = await client.findUser({ user_id: userId }, deadline);
      if (!user?.organizations?.includes(orgCode)) return;
      await client.removeFromOrganization(userId, orgCode, deadline);
    },
    async deleteUserWithoutMemberships(userId, deadline) {
      const user = await client.findUser({ user_id: userId }, deadline);
      if (!user || (user.organizations?.length ?? 0) > 0) return;
      await client.deleteUser(userId, deadline);
    },
  };
}
