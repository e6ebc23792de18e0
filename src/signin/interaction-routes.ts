// The interaction pages: the sign-in form and the organization chooser, which end in a grant or a refusal.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { default as Provider } from 'oidc-provider';
import type { Db } from '../db/database.js';
import type { Csrf } from './csrf.js';
import type { KnownDevices } from './known-devices.js';
import { busyMessage, field, html, pageRoute, refusedForm } from './page-replies.js';
import { chooseOrganizationPage, messagePage, originOf, signInPage } from './pages.js';
import type { PasswordChecks } from './password-checks.js';
import { apiResource, OFFERED_SCOPES } from './provider.js';
import { type Membership, membershipsOf } from './queries.js';
import { recordRefusal, recordSignIn, type SigninSettings, signIn } from './service.js';

/** The forms of one interaction: a token of another interaction's page is refused. */
const interactionForm = (uid: string) => `interaction:${uid}`;

export function interactionRoutes(deps: {
  db: Db;
  provider: Provider;
  csrf: Csrf;
  settings: SigninSettings;
  checks: PasswordChecks;
  knownDevices: KnownDevices;
}): FastifyPluginAsync {
  const { db, provider, csrf, knownDevices, settings, checks } = deps;
  return async (app) => {
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
      const granted = asked.filter((scope) => OFFERED_SCOPES.has(scope)).join(' ');
      grant.addOIDCScope(granted);
      // The API's access token carries the same scopes, so the token response states them all (docs/signin.md).
      grant.addResourceScope(apiResource(settings.publicUrl), granted);
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

    /** Where a form of the interaction's pages posts to, and its CSRF token. */
    const formOf = (
      request: FastifyRequest,
      reply: FastifyReply,
      uid: string,
      step: 'login' | 'organization',
    ) => ({
      action: `/signin/interaction/${encodeURIComponent(uid)}/${step}`,
      csrf: csrf.token(request, reply, interactionForm(uid)),
    });

    /**
     * Where a person refused goes to use another account: the provider's sign-out, back to the application when
     * the client registered its redirect URI for that (the console does), which then asks to sign in again.
     */
    const signOutLink = async (params: Record<string, unknown>) => {
      const query = new URLSearchParams();
      const clientId = typeof params.client_id === 'string' ? params.client_id : undefined;
      const client = clientId ? await provider.Client.find(clientId) : undefined;
      const back = typeof params.redirect_uri === 'string' ? params.redirect_uri : undefined;
      if (client && clientId) query.set('client_id', clientId);
      if (client && back && client.postLogoutRedirectUris?.includes(back)) {
        query.set('post_logout_redirect_uri', back);
      }
      return `/oidc/session/end?${query}`;
    };

    const noAccess = async (
      reply: FastifyReply,
      request: FastifyRequest,
      params: Record<string, unknown>,
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
          { href: await signOutLink(params), label: 'Sign out and use another account' },
        ),
      );
    };

    app.get<{ Params: { uid: string } }>('/signin/interaction/:uid', pageRoute, async (request, reply) => {
      const interaction = await details(request, reply);
      if (!interaction || interaction.uid !== request.params.uid) return expired(reply);
      const orgCode =
        typeof interaction.params.org_code === 'string' ? interaction.params.org_code : undefined;
      const targets = originOf(interaction.params.redirect_uri);
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
            ...formOf(request, reply, interaction.uid, 'login'),
            organizationName: organization,
          }),
          targets,
        );
      }
      const accountId = interaction.session?.accountId;
      if (!accountId) return expired(reply);
      const memberships = await membershipsOf(db, accountId, orgCode);
      const [first] = memberships;
      if (!first) return noAccess(reply, request, interaction.params, accountId, orgCode);
      if (memberships.length === 1) return grantFor(request, reply, interaction, accountId, first);
      return html(
        reply,
        200,
        chooseOrganizationPage({
          ...formOf(request, reply, interaction.uid, 'organization'),
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
        if (!csrf.check(request, field(request.body, 'csrf', 200), interactionForm(interaction.uid)))
          return refusedForm(reply);
        const email = field(request.body, 'email', 320)?.trim() ?? '';
        const password = field(request.body, 'password', 256) ?? '';
        const targets = originOf(interaction.params.redirect_uri);
        const again = (status: number, error: string) =>
          html(
            reply,
            status,
            signInPage({
              ...formOf(request, reply, interaction.uid, 'login'),
              email,
              error,
            }),
            targets,
          );
        if (!email || !password) return again(400, 'Enter your email and your password.');
        const outcome = await signIn(
          db,
          settings,
          {
            email,
            password,
            address: request.ip,
            requestId: request.id,
            knownDevice: knownDevices.isKnown(request, email),
          },
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
        knownDevices.remember(request, reply, email);
        const orgCode =
          typeof interaction.params.org_code === 'string' ? interaction.params.org_code : undefined;
        const memberships = await membershipsOf(db, outcome.accountId, orgCode);
        if (memberships.length === 0)
          return noAccess(reply, request, interaction.params, outcome.accountId, orgCode);
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
        if (!csrf.check(request, field(request.body, 'csrf', 200), interactionForm(interaction.uid)))
          return refusedForm(reply);
        const chosen = field(request.body, 'org_code', 200) ?? '';
        const [membership] = await membershipsOf(db, accountId, chosen);
        if (!membership) return noAccess(reply, request, interaction.params, accountId, chosen);
        return grantFor(request, reply, interaction, accountId, membership);
      },
    );
  };
}
