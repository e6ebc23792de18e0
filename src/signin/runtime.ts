// The embedded sign-in as the service runs it, made from the configuration and the local issuer.
import { hkdfSync } from 'node:crypto';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { default as Provider } from 'oidc-provider';
import { createProofCheck } from '../auth/dpop.js';
import type { LocalIssuer } from '../auth/local-issuer.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { SigninLinks } from '../effects/handler-contract.js';
import type { SsoSettings } from '../sso/service.js';
import { clientOrigins } from './client-origins.js';
import { createCsrf } from './csrf.js';
import { createKnownDevices } from './known-devices.js';
import { linkTokens, signinLinksFor } from './links.js';
import { createProvider } from './provider.js';
import { SIGNIN_PURGE_BATCH_SIZE, SIGNIN_PURGE_INTERVAL_MS, startSigninRetention } from './retention.js';
import { invitationRoutes, signinPageRoutes } from './routes.js';
import { inviteAdmin, type SigninSettings } from './service.js';
import { idTokenSigningKey } from './signing-keys.js';
import { createUserinfo } from './userinfo.js';

export interface Signin {
  /** The provider, the pages and the invitation endpoint, for the app to register. */
  routes: FastifyPluginAsync[];
  /** Whether a browser origin is a registered client's redirect origin: the API's CORS admits it. */
  isClientOrigin(origin: string): Promise<boolean>;
  /** What the mail handlers render the links with. */
  links: SigninLinks;
  /** `salesreps admin invite` in-process: the demo start invites the demo admin with it. */
  inviteAdmin(input: {
    identityOrganizationId: string;
    email: string;
  }): Promise<{ link: string | undefined }>;
  /** Starts the purge of expired records. */
  start(log: FastifyBaseLogger): void;
  close(): Promise<void>;
}

export function signinSettings(config: Config): SigninSettings {
  return { publicUrl: config.publicUrl, ...config.signin };
}

/** The embedded sign-in (docs/signin.md), built when IDP=local and no AUTH_JWKS_URL. */
export async function createSignin(
  config: Config,
  db: Db,
  issuer: LocalIssuer,
  sso: SsoSettings,
): Promise<Signin> {
  const settings = signinSettings(config);
  const tokens = linkTokens(issuer.secretRoot);
  // oidc-provider and the provider made of it are loaded with the first request that needs them, not at start: a
  // service whose people sign in elsewhere, or not yet, never holds them (decision 48). A provider that could not be
  // made is tried again by the next request.
  let made: Promise<Provider> | undefined;
  const provider = () => {
    made ??= (async () =>
      createProvider({
        db,
        publicUrl: config.publicUrl,
        auth: config.auth,
        issuerJwks: issuer.privateJwks,
        secretRoot: issuer.secretRoot,
        idTokenJwk: await idTokenSigningKey(db, issuer.secretRoot),
        behindProxy: config.http.trustProxy !== false,
        accessTokenTtlSeconds: config.signin.accessTokenTtlSeconds,
      }))().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
  const csrfSecret = Buffer.from(hkdfSync('sha256', issuer.secretRoot, 'salesreps', 'csrf', 32));
  const secure = config.publicUrl.startsWith('https:');
  const csrf = createCsrf(csrfSecret, secure);
  const knownDevices = createKnownDevices(
    Buffer.from(hkdfSync('sha256', issuer.secretRoot, 'salesreps', 'device', 32)),
    secure,
  );
  let retention: ReturnType<typeof startSigninRetention> | undefined;
  return {
    routes: [
      signinPageRoutes({
        db,
        provider,
        csrf,
        knownDevices,
        settings,
        sso,
        userinfo: createUserinfo({
          db,
          publicUrl: config.publicUrl,
          auth: config.auth,
          jwks: issuer.jwks,
          checkProof: createProofCheck(db, config.publicUrl, config.auth.clockToleranceSeconds),
        }),
      }) as FastifyPluginAsync,
      invitationRoutes({ db, settings }) as FastifyPluginAsync,
    ],
    isClientOrigin: clientOrigins(db),
    links: signinLinksFor(db, tokens, settings),
    inviteAdmin: (input) => inviteAdmin(db, tokens, settings, input),
    start(log) {
      retention ??= startSigninRetention(
        db,
        { intervalMs: SIGNIN_PURGE_INTERVAL_MS, batchSize: SIGNIN_PURGE_BATCH_SIZE },
        log.child({ component: 'signin-retention' }),
      );
    },
    close: async () => {
      await retention?.stop();
    },
  };
}
