// The embedded OpenID Connect provider's configuration (oidc-provider): clients, scopes, keys and pages.
import { hkdfSync } from 'node:crypto';
import type { JWK } from 'jose';
import type { Configuration, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import type { AuthConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { escapeHtml } from '../kernel/html.js';
import { connectionOfIdentityOrganization } from '../sso/queries.js';
import { ssoSessionAcr } from '../sso/service.js';
import { kyselyAdapter } from './adapter.js';
import { originOf, page, pageSecurityPolicy } from './pages.js';
import { grantOrganization, membershipOf } from './queries.js';

/** The console's client, built in (docs/signin.md): a public client with PKCE. */
export const CONSOLE_CLIENT_ID = 'salesreps-console';

/**
 * The scopes offered. No offline_access: every refresh token is bound to its session and ends with sign-out
 * (docs/signin.md), whatever a client asks for.
 */
export const OFFERED_SCOPES: ReadonlySet<string> = new Set(['openid', 'email']);

const REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 3600;
const SESSION_TTL_SECONDS = 14 * 24 * 3600;

export interface ProviderOptions {
  db: Db;
  publicUrl: string;
  auth: AuthConfig;
  privateJwk: JWK;
  /** Whether X-Forwarded-Proto of the proxies in front is believed (TRUST_PROXY). */
  behindProxy: boolean;
  /** How long an access token (and an ID token) lasts: SIGNIN_ACCESS_TOKEN_TTL_SECONDS. */
  accessTokenTtlSeconds: number;
}

/** The resource indicator of the service's API; its tokens carry AUTH_AUDIENCE as `aud`. */
export function apiResource(publicUrl: string): string {
  return `${publicUrl}/api`;
}

/**
 * The certified oidc-provider, configured as this service's OpenID provider: authorization code with PKCE (S256)
 * only, public clients, JWT access tokens for the API signed by the local issuer's key with the claims the API
 * reads, rotating refresh tokens, sign-out, and every record in the service's database. Imported lazily: on Node 20
 * the library prints an "unsupported runtime" warning when loaded, which only `serve` should show.
 */
export async function createProvider(options: ProviderOptions): Promise<Provider> {
  const { default: ProviderClass, errors } = await import('oidc-provider');
  const { db, publicUrl, auth } = options;
  const secure = publicUrl.startsWith('https:');
  const cookieKey = Buffer.from(
    hkdfSync('sha256', Buffer.from(options.privateJwk.d ?? '', 'base64url'), 'salesreps', 'oidc cookies', 32),
  ).toString('base64url');
  const resource = apiResource(publicUrl);

  const configuration: Configuration = {
    adapter: kyselyAdapter(db),
    clients: [
      {
        client_id: CONSOLE_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${publicUrl}/console/`],
        post_logout_redirect_uris: [`${publicUrl}/console/`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [options.privateJwk as never] },
    // The local issuer's key is the only one: ES256 for ID tokens too.
    clientDefaults: {
      id_token_signed_response_alg: 'ES256',
      grant_types: ['authorization_code', 'refresh_token'],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: [...OFFERED_SCOPES],
    claims: { openid: ['sub'], email: ['email'] },
    extraParams: ['org_code'],
    routes: {
      authorization: '/oidc/auth',
      token: '/oidc/token',
      jwks: '/oidc/jwks',
      userinfo: '/oidc/me',
      end_session: '/oidc/session/end',
      revocation: '/oidc/token/revocation',
      introspection: '/oidc/token/introspection',
      pushed_authorization_request: '/oidc/request',
      code_verification: '/oidc/device',
      device_authorization: '/oidc/device/auth',
      registration: '/oidc/reg',
      backchannel_authentication: '/oidc/backchannel',
      challenge: '/oidc/challenge',
    },
    interactions: { url: (_ctx, interaction) => `/signin/interaction/${interaction.uid}` },
    cookies: {
      keys: [cookieKey],
      long: { httpOnly: true, sameSite: 'lax', secure, signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure, signed: true },
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.set(
            'content-security-policy',
            pageSecurityPolicy(originOf(ctx.oidc.params?.post_logout_redirect_uri)),
          );
          ctx.body = page(
            'Sign out',
            `${form}<p>Do you want to sign out?</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.set('content-security-policy', pageSecurityPolicy([]));
          ctx.body = page('Signed out', '<p>You are signed out.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          return {
            scope: 'openid',
            audience: auth.audience,
            accessTokenTTL: options.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    async findAccount(_ctx, id) {
      const account = await db
        .selectFrom('idp_account')
        .select(['id', 'email'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!account) return undefined;
      return { accountId: account.id, claims: () => ({ sub: account.id, email: account.email }) };
    },
    // The organization chosen at sign-in is the grant's (signin_grant); membership is read again at every issue,
    // so a refresh of a rep deactivated or removed since fails.
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'AccessToken' || !token.grantId || !token.accountId) return undefined;
      const organization = await grantOrganization(db, token.grantId);
      const membership = organization && (await membershipOf(db, token.accountId, organization));
      if (!organization || !membership) {
        throw new errors.InvalidGrant('the account has no access to this organization any more');
      }
      return {
        [auth.claims.userId]: token.accountId,
        [auth.claims.organization]: organization,
        [auth.claims.roles]: membership.roles,
      };
    },
    // A session's earlier grant is used again only for its own organization (no other `org_code` asked for, no
    // `prompt=consent` to choose again), only by a session signed in as that organization requires, and while the
    // account still has access there; otherwise the person goes
    // through the interaction, which chooses, or refuses with a page and issues no code.
    async loadExistingGrant(ctx) {
      const grantId =
        ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? '');
      if (!grantId) return undefined;
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (!grant?.accountId || ctx.oidc.result?.consent?.grantId) return grant;
      if (ctx.oidc.prompts.has('consent')) return undefined;
      const organization = await grantOrganization(db, grantId);
      const asked = ctx.oidc.params?.org_code;
      if (!organization || (typeof asked === 'string' && asked !== '' && asked !== organization))
        return undefined;
      // An organization that signs in only through its IdP (docs/sso.md) takes no session of a password.
      const connection = await connectionOfIdentityOrganization(db, organization);
      const viaItsIdp = ctx.oidc.session?.acr === ssoSessionAcr(organization);
      if (connection && !connection.password_sign_in && !viaItsIdp) return undefined;
      return (await membershipOf(db, grant.accountId, organization)) ? grant : undefined;
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => true,
    rotateRefreshToken: true,
    ttl: {
      AccessToken: options.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: options.accessTokenTtlSeconds,
      Interaction: 30 * 60,
      Session: SESSION_TTL_SECONDS,
      Grant: REFRESH_TOKEN_TTL_SECONDS,
      // A rotated refresh token keeps the expiry of the first: a session lasts 14 days, however often refreshed.
      RefreshToken: (ctx: KoaContextWithOIDC) =>
        ctx.oidc.entities.RotatedRefreshToken?.remainingTTL ?? REFRESH_TOKEN_TTL_SECONDS,
    },
    // The token and userinfo endpoints answer browsers of the client's own redirect origins only.
    clientBasedCORS: (_ctx, origin, client) =>
      (client.redirectUris ?? []).some((uri) => originOf(uri).includes(origin)),
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.set('content-security-policy', pageSecurityPolicy([]));
      ctx.body = page(
        'Sign-in error',
        `<p role="alert">${escapeHtml(String(out.error_description ?? out.error))}</p>`,
      );
    },
  };
  const provider = new ProviderClass(publicUrl, configuration);
  provider.proxy = options.behindProxy;
  return provider;
}
