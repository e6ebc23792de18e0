import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { default as Provider } from 'oidc-provider';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { errorResponses, jsonResponse } from '../kernel/route-schema.js';
import type { Csrf } from './csrf.js';
import { findOpenLink } from './links.js';
import {
  chooseOrganizationPage,
  escapeHtml,
  messagePage,
  originOf,
  page,
  pageSecurityPolicy,
  requestLinkPage,
  setPasswordPage,
  signInPage,
} from './pages.js';
import { passwordChecks } from './password-checks.js';
import { MIN_PASSWORD_LENGTH } from './passwords.js';
import { apiResource, OFFERED_SCOPES } from './provider.js';
import { type Membership, membershipsOf } from './queries.js';
import {
  recordRefusal,
  recordSignIn,
  requestLink,
  resendInvitation,
  type SigninSettings,
  setPasswordByLink,
  signIn,
} from './service.js';

export interface SigninRouteDeps {
  db: Db;
  provider: Provider;
  csrf: Csrf;
  settings: SigninSettings;
}

const ResendInvitationBody = Type.Object(
  {
    organizationSalesRepId: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'The assignment to invite again.',
    }),
  },
  { additionalProperties: false, examples: [{ organizationSalesRepId: 'OJ76hgt87hgas4ffG5' }] },
);
const ResendInvitationResponse = Type.Object({
  organizationSalesRepId: Type.String({ maxLength: 200 }),
  email: Type.String({ maxLength: 320 }),
  expiresInHours: Type.Integer({ format: 'int32', minimum: 1, maximum: 2160 }),
});

/** The page's words for a check refused for being one too many at once. */
function busyMessage(busy: { everyone: boolean; seconds: number }): string {
  return busy.everyone
    ? `The sign-in is busy. Try again in ${busy.seconds} seconds.`
    : `Too many attempts at once. Try again in ${busy.seconds} seconds.`;
}

/** A form field as text, or undefined when absent, repeated or too long (a form is never trusted to be well-formed). */
function field(body: unknown, name: string, max: number): string | undefined {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

/**
 * The embedded sign-in's HTTP surface: the OpenID provider (discovery and /oidc/...), the interaction pages
 * (sign in, choose an organization) and the links' pages (set a password, ask for a new link). Served only with IDP=local and no AUTH_JWKS_URL.
 */
export function signinPageRoutes(deps: SigninRouteDeps): FastifyPluginAsyncTypebox {
  const { db, provider, csrf, settings } = deps;
  const callback = provider.callback();
  const checks = passwordChecks();
  return async (app) => {
    await app.register(formbody, { bodyLimit: 16 * 1024 });

    // The provider answers its own requests: taken over before Fastify reads the body, with the headers the
    // service's hooks set so far (security headers, request id).
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value);
      }
      await callback(request.raw, reply.raw);
    };
    const providerRoute = {
      config: { policy: 'public' as const },
      schema: { hide: true },
      onRequest: forward,
    };
    app.get('/.well-known/openid-configuration', providerRoute, async () => undefined);
    app.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url: '/oidc/*',
      ...providerRoute,
      handler: async () => undefined,
    });

    const html = (reply: FastifyReply, status: number, body: string, formTargets: string[] = []) =>
      reply
        .code(status)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', pageSecurityPolicy(formTargets))
        .send(body);
    const pageRoute = { config: { policy: 'public' as const }, schema: { hide: true } };
    const expired = (reply: FastifyReply) =>
      html(
        reply,
        400,
        messagePage(
          'Sign-in expired',
          'This sign-in has expired or was already completed. Start again from the application you use.',
          true,
        ),
      );
    const refusedForm = (reply: FastifyReply) =>
      html(
        reply,
        403,
        messagePage('Form expired', 'The form expired. Go back, reload the page and try again.', true),
      );

    const details = async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await provider.interactionDetails(request.raw, reply.raw);
      } catch {
        return undefined;
      }
    };

    /** Ends the interaction with a grant for the one organization, recorded for the tokens' claims. */
    const grantFor = async (
      request: FastifyRequest,
      reply: FastifyReply,
      interaction: NonNullable<Awaited<ReturnType<typeof details>>>,
      accountId: string,
      membership: Membership,
    ) => {
      const grant = new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
      const asked = String(interaction.params.scope ?? 'openid').split(' ');
      grant.addOIDCScope(asked.filter((scope) => OFFERED_SCOPES.has(scope)).join(' '));
      grant.addResourceScope(apiResource(settings.publicUrl), 'openid');
      const grantId = await grant.save();
      await recordSignIn(db, {
        grantId,
        accountId,
        membership,
        expiresAt: new Date(Date.now() + 14 * 24 * 3600_000),
        requestId: request.id,
      });
      request.log.info(
        { event: 'signin.succeeded', accountId, organization: membership.identityOrganizationId },
        'signed in',
      );
      const target = await provider.interactionResult(
        request.raw,
        reply.raw,
        { consent: { grantId } },
        {
          mergeWithLastSubmission: true,
        },
      );
      return reply.code(303).redirect(target);
    };

    const noAccess = async (
      reply: FastifyReply,
      request: FastifyRequest,
      accountId: string,
      organization: string | undefined,
    ) => {
      request.log.warn({ event: 'signin.refused', accountId, organization }, 'sign-in refused: no access');
      await recordRefusal(db, { accountId, identityOrganizationId: organization, requestId: request.id });
      return html(
        reply,
        403,
        messagePage(
          'No access',
          typeof organization === 'string'
            ? 'Your account has no access to this organization (it may have been deactivated or removed). Ask its administrator.'
            : 'Your account has no access to any organization (it may have been deactivated or removed). Ask an administrator.',
          true,
        ),
      );
    };

    app.get<{ Params: { uid: string } }>('/signin/interaction/:uid', pageRoute, async (request, reply) => {
      const interaction = await details(request, reply);
      if (!interaction || interaction.uid !== request.params.uid) return expired(reply);
      const orgCode =
        typeof interaction.params.org_code === 'string' ? interaction.params.org_code : undefined;
      const targets = originOf(interaction.params.redirect_uri);
      const action = `/signin/interaction/${encodeURIComponent(interaction.uid)}`;
      if (interaction.prompt.name === 'login') {
        const organization = orgCode
          ? (
              await db
                .selectFrom('organization')
                .select('name')
                .where('identity_organization_id', '=', orgCode)
                .executeTakeFirst()
            )?.name
          : undefined;
        return html(
          reply,
          200,
          signInPage({
            action: `${action}/login`,
            csrf: csrf.token(request, reply),
            organizationName: organization,
          }),
          targets,
        );
      }
      const accountId = interaction.session?.accountId;
      if (!accountId) return expired(reply);
      const memberships = await membershipsOf(db, accountId, orgCode);
      const [first] = memberships;
      if (!first) return noAccess(reply, request, accountId, orgCode);
      if (memberships.length === 1) return grantFor(request, reply, interaction, accountId, first);
      return html(
        reply,
        200,
        chooseOrganizationPage({
          action: `${action}/organization`,
          csrf: csrf.token(request, reply),
          organizations: memberships,
        }),
        targets,
      );
    });

    app.post<{ Params: { uid: string } }>(
      '/signin/interaction/:uid/login',
      pageRoute,
      async (request, reply) => {
        const interaction = await details(request, reply);
        if (!interaction || interaction.uid !== request.params.uid || interaction.prompt.name !== 'login') {
          return expired(reply);
        }
        if (!csrf.check(request, field(request.body, 'csrf', 200))) return refusedForm(reply);
        const email = field(request.body, 'email', 320)?.trim() ?? '';
        const password = field(request.body, 'password', 256) ?? '';
        const targets = originOf(interaction.params.redirect_uri);
        const again = (status: number, error: string) =>
          html(
            reply,
            status,
            signInPage({
              action: `/signin/interaction/${encodeURIComponent(interaction.uid)}/login`,
              csrf: csrf.token(request, reply),
              email,
              error,
            }),
            targets,
          );
        if (!email || !password) return again(400, 'Enter your email and your password.');
        const outcome = await signIn(
          db,
          settings,
          { email, password, address: request.ip, requestId: request.id },
          checks,
          request.log,
        );
        if (outcome.kind === 'busy') {
          reply.header('retry-after', String(outcome.seconds));
          return again(outcome.everyone ? 503 : 429, busyMessage(outcome));
        }
        if (outcome.kind === 'wait') {
          reply.header('retry-after', String(outcome.seconds));
          return again(429, `Too many failed attempts. Try again in ${outcome.seconds} seconds.`);
        }
        if (outcome.kind === 'wrong') return again(401, 'The email or the password is not right.');
        const orgCode =
          typeof interaction.params.org_code === 'string' ? interaction.params.org_code : undefined;
        const memberships = await membershipsOf(db, outcome.accountId, orgCode);
        if (memberships.length === 0) return noAccess(reply, request, outcome.accountId, orgCode);
        const target = await provider.interactionResult(request.raw, reply.raw, {
          login: { accountId: outcome.accountId, amr: ['pwd'] },
        });
        return reply.code(303).redirect(target);
      },
    );

    app.post<{ Params: { uid: string } }>(
      '/signin/interaction/:uid/organization',
      pageRoute,
      async (request, reply) => {
        const interaction = await details(request, reply);
        const accountId = interaction?.session?.accountId;
        if (
          !interaction ||
          !accountId ||
          interaction.uid !== request.params.uid ||
          interaction.prompt.name === 'login'
        ) {
          return expired(reply);
        }
        if (!csrf.check(request, field(request.body, 'csrf', 200))) return refusedForm(reply);
        const chosen = field(request.body, 'org_code', 200) ?? '';
        const [membership] = await membershipsOf(db, accountId, chosen);
        if (!membership) return noAccess(reply, request, accountId, chosen);
        return grantFor(request, reply, interaction, accountId, membership);
      },
    );

    const linkAction = (token: string) => `/signin/link/${encodeURIComponent(token)}`;
    const invalidLink = (request: FastifyRequest, reply: FastifyReply) =>
      html(
        reply,
        410,
        requestLinkPage({
          action: '/signin/reset',
          csrf: csrf.token(request, reply),
          title: 'This link does not work any more',
          explanation:
            'The link has expired, was used already, or was replaced by a newer one. Enter your email to get a new link.',
        }),
      );

    app.get<{ Params: { token: string } }>('/signin/link/:token', pageRoute, async (request, reply) => {
      const link = await findOpenLink(db, request.params.token);
      if (!link) return invalidLink(request, reply);
      return html(
        reply,
        200,
        setPasswordPage({
          action: linkAction(request.params.token),
          csrf: csrf.token(request, reply),
          email: link.email,
          organizationName: link.organizationName,
          purpose: link.purpose,
          minLength: MIN_PASSWORD_LENGTH,
        }),
      );
    });

    app.post<{ Params: { token: string } }>('/signin/link/:token', pageRoute, async (request, reply) => {
      if (!csrf.check(request, field(request.body, 'csrf', 200))) return refusedForm(reply);
      const link = await findOpenLink(db, request.params.token);
      if (!link) return invalidLink(request, reply);
      const password = field(request.body, 'password', 10_000) ?? '';
      const outcome = await setPasswordByLink(
        db,
        settings,
        link,
        password,
        { address: request.ip, requestId: request.id },
        checks,
        request.log,
      );
      if (outcome.kind === 'used') return invalidLink(request, reply);
      if (outcome.kind === 'busy') reply.header('retry-after', String(outcome.seconds));
      if (outcome.kind === 'refused' || outcome.kind === 'busy') {
        return html(
          reply,
          outcome.kind === 'busy' ? (outcome.everyone ? 503 : 429) : 400,
          setPasswordPage({
            action: linkAction(request.params.token),
            csrf: csrf.token(request, reply),
            email: link.email,
            organizationName: link.organizationName,
            purpose: link.purpose,
            minLength: MIN_PASSWORD_LENGTH,
            error: outcome.kind === 'busy' ? busyMessage(outcome) : outcome.reason,
          }),
        );
      }
      return html(
        reply,
        200,
        page(
          'Password set',
          `<p>Your password is set. Sign in with ${escapeHtml(link.email)}: <a href="/console/">open the console</a>, or the application you use.</p>`,
        ),
      );
    });

    app.get('/signin', pageRoute, async (_request, reply) =>
      html(
        reply,
        200,
        page(
          'Sales Reps sign-in',
          '<p>Sign in from the application you use, or <a href="/console/">open the console</a>: it brings you to the sign-in page of this service.</p><p><a href="/signin/reset">Forgot your password, or lost your invitation?</a></p>',
        ),
      ),
    );

    const resetPage = (request: FastifyRequest, reply: FastifyReply, status: number, error?: string) =>
      html(
        reply,
        status,
        requestLinkPage({
          action: '/signin/reset',
          csrf: csrf.token(request, reply),
          title: 'Get a new link',
          explanation:
            'Enter your email. If it belongs to an account, a link to choose a password is mailed to it.',
          error,
        }),
      );
    app.get('/signin/reset', pageRoute, async (request, reply) => resetPage(request, reply, 200));
    app.post('/signin/reset', pageRoute, async (request, reply) => {
      if (!csrf.check(request, field(request.body, 'csrf', 200))) return refusedForm(reply);
      const email = field(request.body, 'email', 320)?.trim() ?? '';
      if (!email.includes('@')) return resetPage(request, reply, 400, 'Enter your email address.');
      const outcome = await requestLink(db, email, request.ip, request.log);
      if (outcome.kind === 'wait') {
        reply.header('retry-after', String(outcome.seconds));
        return resetPage(request, reply, 429, `Too many requests. Try again in ${outcome.seconds} seconds.`);
      }
      return html(
        reply,
        200,
        messagePage(
          'Check your mail',
          'If this address belongs to an account, a link is on its way. It works once.',
        ),
      );
    });
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
