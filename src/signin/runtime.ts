// The embedded sign-in as the service runs it, made from the configuration and the local issuer.
import { hkdfSync } from 'node:crypto';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { LocalIssuer } from '../auth/local-issuer.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { SigninLinks } from '../effects/handler-contract.js';
import type { SsoSettings } from '../sso/service.js';
import { createCsrf } from './csrf.js';
import { linkTokens, signinLinksFor } from './links.js';
import { createProvider } from './provider.js';
import { SIGNIN_PURGE_BATCH_SIZE, SIGNIN_PURGE_INTERVAL_MS, startSigninRetention } from './retention.js';
import { invitationRoutes, signinPageRoutes } from './routes.js';
import { inviteAdmin, type SigninSettings } from './service.js';

export interface Signin {
  /** The provider, the pages and the invitation endpoint, for the app to register. */
  routes: FastifyPluginAsync[];
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
  const tokens = linkTokens(issuer.privateJwk);
  const provider = await createProvider({
    db,
    publicUrl: config.publicUrl,
    auth: config.auth,
    privateJwk: issuer.privateJwk,
    behindProxy: config.http.trustProxy !== false,
    accessTokenTtlSeconds: config.signin.accessTokenTtlSeconds,
  });
  const csrfSecret = Buffer.from(
    hkdfSync('sha256', Buffer.from(issuer.privateJwk.d ?? '', 'base64url'), 'salesreps', 'csrf', 32),
  );
  const csrf = createCsrf(csrfSecret, config.publicUrl.startsWith('https:'));
  let retention: ReturnType<typeof startSigninRetention> | undefined;
  return {
    routes: [
      signinPageRoutes({ db, provider, csrf, settings, sso }) as FastifyPluginAsync,
      invitationRoutes({ db, settings }) as FastifyPluginAsync,
    ],
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
