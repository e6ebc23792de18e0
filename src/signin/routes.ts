// The embedded sign-in's routes: the provider mount, its pages and the admin's re-invitation.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { default as Provider } from 'oidc-provider';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { ID_MAX_LENGTH } from '../kernel/ids.js';
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import type { SsoSettings } from '../sso/service.js';
import type { Csrf } from './csrf.js';
import { interactionRoutes } from './interaction-routes.js';
import type { KnownDevices } from './known-devices.js';
import { linkRoutes } from './link-routes.js';
import { passwordChecks } from './password-checks.js';
import { providerRoutes } from './provider-routes.js';
import { resendInvitation, type SigninSettings } from './service.js';
import { ssoSetupRoutes } from './sso-setup-routes.js';
import type { Userinfo } from './userinfo.js';

export interface SigninRouteDeps {
  db: Db;
  /** The OpenID provider, made at its first use (decision 48). */
  provider: () => Promise<Provider>;
  csrf: Csrf;
  knownDevices: KnownDevices;
  settings: SigninSettings;
  userinfo: Userinfo;
  sso: SsoSettings;
}

const ResendInvitationBody = Type.Object(
  {
    organizationSalesRepId: Type.String({
      minLength: 1,
      maxLength: ID_MAX_LENGTH,
      description: 'The assignment to invite again.',
    }),
  },
  { additionalProperties: false, examples: [{ organizationSalesRepId: 'OJ76hgt87hgas4ffG5' }] },
);
const ResendInvitationResponse = Type.Object({
  organizationSalesRepId: Type.String({ maxLength: ID_MAX_LENGTH }),
  email: Type.String({ maxLength: 320 }),
  expiresInHours: Type.Integer({ format: 'int32', minimum: 1, maximum: 2160 }),
});

/**
 * The embedded sign-in's HTTP surface: the OpenID provider (discovery and /oidc/...), the interaction pages
 * (sign in, choose an organization) and the links' pages (set a password, ask for a new link), which share one
 * bound on password checks. Served only with IDP=local and no AUTH_JWKS_URL.
 */
export function signinPageRoutes(deps: SigninRouteDeps): FastifyPluginAsyncTypebox {
  const { db, provider, csrf, knownDevices, settings, userinfo, sso } = deps;
  const checks = passwordChecks();
  return async (app) => {
    await app.register(formbody, { bodyLimit: 16 * 1024 });
    await app.register(providerRoutes(provider, settings.publicUrl, userinfo));
    await app.register(interactionRoutes({ db, provider, csrf, knownDevices, settings, checks, sso }));
    await app.register(linkRoutes({ db, csrf, settings, checks }));
    await app.register(ssoSetupRoutes({ db, csrf, sso }));
  };
}

/** POST /api/organizations/salesreps/invitation; needs no provider, so the OpenAPI document shows it too. */
export function invitationRoutes(deps: {
  db: Db;
  settings: Pick<SigninSettings, 'invitationTtlHours'>;
}): FastifyPluginAsyncTypebox {
  const { db, settings } = deps;
  return async (app) => {
    app.post(
      '/api/organizations/salesreps/invitation',
      {
        config: { policy: 'Admin' },
        schema: {
          tags: ['Sales reps'],
          operationId: 'resendInvitation',
          summary: 'Send a rep a new invitation link',
          description:
            "Policy: Admin of the token's organization. Mails the rep a new single-use link to set a password; the " +
            'previous link stops working at once. 409 when the rep is inactive or has set a password already. ' +
            'Served only by the embedded sign-in (IDP=local without AUTH_JWKS_URL).',
          body: ResendInvitationBody,
          response: {
            202: jsonResponse(
              'The new invitation is recorded and mailed shortly.',
              ResendInvitationResponse,
              {
                organizationSalesRepId: 'OJ76hgt87hgas4ffG5',
                email: 'john.doe@example.com',
                expiresInHours: 168,
              },
            ),
            ...errorResponses(400, 401, 403, 404, 409, 415),
          },
        },
      },
      async (request, reply) => {
        const auth = requireAuth(request);
        const result = await resendInvitation(
          db,
          requestChange(request),
          auth.organization,
          request.body.organizationSalesRepId,
          request.log,
        );
        return reply.code(202).send({ ...result, expiresInHours: settings.invitationTtlHours });
      },
    );
  };
}
