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
import { accountEmail, grantOrganization, membershipOf, membershipsOf } from './queries.js';
import { ID_TOKEN_ALGORITHM } from './signing-keys.js';

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
  /** The local issuer's live keys, the one that signs first (a rotation's older key verifies until it retires). */
  issuerJwks: JWK[];
  /** The local issuer's secret root (LocalIssuer.secretRoot), which the cookie keys derive from. */
  secretRoot: Buffer;
  /** The RS256 key that signs ID tokens (signing-keys.ts). */
  idTokenJwk: JWK;
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
    hkdfSync('sha256', options.secretRoot, 'salesreps', 'oidc cookies', 32),
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
    // The local issuer's ES256 key signs the API's access tokens; ID tokens are RS256, the algorithm OpenID Connect
    // requires a provider to offer and a client gets when it registers none. Both are published at /oidc/jwks.
    jwks: { keys: [...(options.issuerJwks as never[]), options.idTokenJwk as never] },
    enabledJWA: { idTokenSigningAlgValues: [ID_TOKEN_ALGORITHM, 'ES256'] },
    clientDefaults: {
      id_token_signed_response_alg: ID_TOKEN_ALGORITHM,
      grant_types: ['authorization_code', 'refresh_token'],
    },
    // Every client is public (the console, those of `salesreps client add`): none is offered a secret.
    clientAuthMethods: ['none'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: [...OFFERED_SCOPES],
    // The ID token says who signed in and in which organizations (Kinde's `org_codes`), so that the console names
    // the person and offers "Switch organization" only to one who has another organization.
    claims: { openid: ['sub', 'org_codes'], email: ['email'] },
    conformIdTokenClaims: false,
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
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.set('content-security-policy', pageSecurityPolicy([]));
          ctx.body = page(
            'You are signed out',
            '<p>You can close this window, or sign in again from the application you use.</p>',
          );
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          // The access token's scope, and so the token response's, is every scope granted (docs/signin.md).
          return {
            scope: [...OFFERED_SCOPES].join(' '),
            audience: auth.audience,
            accessTokenTTL: options.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    async findAccount(_ctx, id) {
      const email = await accountEmail(db, id);
      if (email === undefined) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          email,
          org_codes: (await membershipsOf(db, id)).map((membership) => membership.identityOrganizationId),
        }),
      };
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
  provider.use(answerRevocationAsRfc7009);
  return provider;
}

/**
 * Revocation as RFC 7009 says for both token types, answered in JSON (docs/signin.md, "Revocation"). An access token
 * is a JWT the API checks without a lookup, so it cannot be revoked: oidc-provider refuses it with 400
 * `unsupported_token_type` once the client is authenticated, which stops a client that revokes the access token
 * before the refresh token (oidc-client-ts's `revokeTokens()`). It is answered 200, as any token the server does not
 * keep; it lasts until its expiry. A success is `{}` in JSON rather than an empty text/plain body, which a client
 * that accepts JSON only refuses.
 */
async function answerRevocationAsRfc7009(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  if (ctx.oidc?.route !== 'revocation') return;
  const unrevocable =
    ctx.status === 400 && (ctx.body as { error?: unknown } | undefined)?.error === 'unsupported_token_type';
  if (ctx.status === 200 || unrevocable) {
    ctx.status = 200;
    ctx.body = {};
  }
}
