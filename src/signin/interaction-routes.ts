// The interaction pages: the sign-in form and the organization chooser, which end in a grant or a refusal.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { default as Provider } from 'oidc-provider';
import type { Db } from '../db/database.js';
import { serviceProviderMetadata } from '../sso/saml/index.js';
import { type SsoSettings, samlIdpOf, samlServiceProvider } from '../sso/service.js';
import { isReservedConnectionId } from '../sso/setup-links.js';
import {
  finishOidcTestAnswer,
  finishSamlTestAnswer,
  isTestAnswer,
  type TestAnswer,
} from '../sso/test-sign-in.js';
import type { Csrf } from './csrf.js';
import type { KnownDevices } from './known-devices.js';
import { busyMessage, field, html, pageRoute, refusedForm } from './page-replies.js';
import { chooseOrganizationPage, continueSignInPage, messagePage, originOf, signInPage } from './pages.js';
import type { PasswordChecks } from './password-checks.js';
import { apiResource, OFFERED_SCOPES } from './provider.js';
import { type Membership, membershipOf, membershipsOf } from './queries.js';
import { recordRefusal, recordSignIn, type SignInMethod, type SigninSettings, signIn } from './service.js';
import { type SsoInteraction, ssoInteraction } from './sso-interaction.js';
import { testSignInPage } from './sso-setup-pages.js';

/** A sign-in interaction under way, as the provider keeps it. */
type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The ACS's form: a base64 SAMLResponse of up to the SAML module's bound, URL-encoded, and its RelayState. */
const SAML_FORM_LIMIT_BYTES = 512 * 1024;

/** The forms of one interaction: a token of another interaction's page is refused. */
const interactionForm = (uid: string) => `interaction:${uid}`;

export function interactionRoutes(deps: {
  db: Db;
  provider: () => Promise<Provider>;
  csrf: Csrf;
  settings: SigninSettings;
  checks: PasswordChecks;
  knownDevices: KnownDevices;
  sso: SsoSettings;
}): FastifyPluginAsync {
  const { db, provider, csrf, knownDevices, settings, checks } = deps;
  const sso: SsoInteraction = ssoInteraction({ db, settings: deps.sso, publicUrl: settings.publicUrl });
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

    /** The browser's interaction when it is the one the URL names; undefined when it expired, ended or is another. */
    const interactionOf = async (
      request: FastifyRequest<{ Params: { uid: string } }>,
      reply: FastifyReply,
    ) => {
      let interaction: Interaction;
      try {
        interaction = await (await provider()).interactionDetails(request.raw, reply.raw);
      } catch {
        return undefined;
      }
      return interaction.uid === request.params.uid ? interaction : undefined;
    };

    /**
     * Ends the interaction with a grant for the one organization, recorded for the tokens' claims; a sign-in
     * through the organization's IdP ends its login here too.
     */
    const grantFor = async (
      request: FastifyRequest,
      reply: FastifyReply,
      interaction: Interaction,
      accountId: string,
      membership: Membership,
      method: SignInMethod,
      endsLogin: boolean | 'without-cookie' = false,
    ) => {
      const grant = new (await provider()).Grant({
        accountId,
        clientId: String(interaction.params.client_id),
      });
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
        method,
      });
      request.log.info(
        { event: 'signin.succeeded', accountId, organization: membership.identityOrganizationId, method },
        'signed in',
      );
      if (endsLogin === 'without-cookie') {
        // The interaction is the one the sign-in was started for, found by its uid; oidc-provider's resume step
        // that follows takes it only from the browser holding that interaction's cookie.
        interaction.result = {
          login: sso.loginResult(accountId, membership.identityOrganizationId),
          consent: { grantId },
        };
        await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
        return html(reply, 200, continueSignInPage(interaction.returnTo));
      }
      const target = endsLogin
        ? await (await provider()).interactionResult(request.raw, reply.raw, {
            login: sso.loginResult(accountId, membership.identityOrganizationId),
            consent: { grantId },
          })
        : await (await provider()).interactionResult(
            request.raw,
            reply.raw,
            { consent: { grantId } },
            { mergeWithLastSubmission: true },
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
      const client = clientId ? await (await provider()).Client.find(clientId) : undefined;
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
      method: SignInMethod,
    ) => {
      request.log.warn(
        { event: 'signin.refused', accountId, organization, method },
        'sign-in refused: no access',
      );
      await recordRefusal(db, {
        accountId,
        identityOrganizationId: organization,
        requestId: request.id,
        method,
      });
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

    /** Sends the browser to the organization's IdP: a redirect after a GET, a page that goes on after a POST. */
    const toIdentityProvider = async (
      request: FastifyRequest,
      reply: FastifyReply,
      interactionUid: string,
      connectionId: string,
      via: 'get' | 'post',
      loginHint?: string,
    ) => {
      const started = await sso.start({ connectionId, interactionUid, loginHint });
      if (started.kind === 'unavailable') {
        request.log.warn(
          { event: 'signin.sso-unavailable', connectionId, reason: started.reason },
          "sign-in refused: the organization's identity provider cannot be used",
        );
        return html(
          reply,
          502,
          messagePage(
            'Sign-in unavailable',
            "Your organization's identity provider cannot be reached just now. Try again later, or ask your administrator.",
            true,
          ),
        );
      }
      request.log.info({ event: 'signin.sso-started', connectionId }, 'sent to the identity provider');
      if (via === 'get') return reply.code(303).redirect(started.url);
      return html(reply, 200, sso.continuePage(started.url));
    };

    /** The sign-in page, or straight on to the IdP when the organization asked for signs in only there. */
    const signInOrIdentityProvider = async (
      request: FastifyRequest,
      reply: FastifyReply,
      interaction: Interaction,
      orgCode: string | undefined,
    ) => {
      const required = orgCode ? await sso.requiredFor(orgCode) : undefined;
      if (required) return toIdentityProvider(request, reply, interaction.uid, required, 'get');
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
        signInPage({ ...formOf(request, reply, interaction.uid, 'login'), organizationName: organization }),
        originOf(interaction.params.redirect_uri),
      );
    };

    const orgCodeOf = (interaction: Interaction) =>
      typeof interaction.params.org_code === 'string' && interaction.params.org_code !== ''
        ? interaction.params.org_code
        : undefined;

    app.get<{ Params: { uid: string } }>('/signin/interaction/:uid', pageRoute, async (request, reply) => {
      const interaction = await interactionOf(request, reply);
      if (!interaction) return expired(reply);
      const orgCode = orgCodeOf(interaction);
      const targets = originOf(interaction.params.redirect_uri);
      if (interaction.prompt.name === 'login' || (await sso.mustSignInAgain(interaction, orgCode))) {
        return signInOrIdentityProvider(request, reply, interaction, orgCode);
      }
      const accountId = interaction.session?.accountId;
      if (!accountId) return expired(reply);
      const memberships = await sso.allowedMemberships(
        interaction,
        await membershipsOf(db, accountId, sso.sessionOrganization(interaction) ?? orgCode),
      );
      const [first] = memberships;
      if (!first)
        return noAccess(
          reply,
          request,
          interaction.params,
          accountId,
          orgCode,
          sso.sessionMethod(interaction),
        );
      if (memberships.length === 1) {
        return grantFor(request, reply, interaction, accountId, first, sso.sessionMethod(interaction));
      }
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
        const interaction = await interactionOf(request, reply);
        if (!interaction) return expired(reply);
        const orgCode = orgCodeOf(interaction);
        if (interaction.prompt.name !== 'login' && !(await sso.mustSignInAgain(interaction, orgCode))) {
          return expired(reply);
        }
        if (!csrf.check(request, field(request.body, 'csrf', 200), interactionForm(interaction.uid)))
          return refusedForm(reply);
        const email = field(request.body, 'email', 320)?.trim() ?? '';
        const password = field(request.body, 'password', 256) ?? '';
        const targets = originOf(interaction.params.redirect_uri);
        // Password sign-in to an organization that signs in only through its IdP is refused: on to the IdP.
        const required = orgCode ? await sso.requiredFor(orgCode) : undefined;
        if (required) return toIdentityProvider(request, reply, interaction.uid, required, 'post', email);
        // Home-realm discovery: an email of a domain a connection serves goes to that IdP.
        const served = await sso.servingEmail(email, orgCode, password !== '');
        if (served) return toIdentityProvider(request, reply, interaction.uid, served, 'post', email);
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
        const memberships = await sso.allowedMemberships(
          undefined,
          await membershipsOf(db, outcome.accountId, orgCode),
        );
        if (memberships.length === 0)
          return noAccess(reply, request, interaction.params, outcome.accountId, orgCode, 'password');
        const target = await (await provider()).interactionResult(request.raw, reply.raw, {
          login: { accountId: outcome.accountId, amr: ['pwd'] },
        });
        return reply.code(303).redirect(target);
      },
    );

    app.post<{ Params: { uid: string } }>(
      '/signin/interaction/:uid/organization',
      pageRoute,
      async (request, reply) => {
        const interaction = await interactionOf(request, reply);
        const accountId = interaction?.session?.accountId;
        if (!interaction || !accountId || interaction.prompt.name === 'login') return expired(reply);
        if (!csrf.check(request, field(request.body, 'csrf', 200), interactionForm(interaction.uid)))
          return refusedForm(reply);
        const chosen = field(request.body, 'org_code', 200) ?? '';
        const [membership] = await sso.allowedMemberships(
          interaction,
          await membershipsOf(db, accountId, chosen),
        );
        if (!membership)
          return noAccess(
            reply,
            request,
            interaction.params,
            accountId,
            chosen,
            sso.sessionMethod(interaction),
          );
        return grantFor(request, reply, interaction, accountId, membership, sso.sessionMethod(interaction));
      },
    );

    /** An IdP's answer the checks refused: the page that says why, never what the IdP sent. */
    const refusedByIdp = (
      request: FastifyRequest,
      reply: FastifyReply,
      outcome: { reason: string; status: number; title: string; message: string },
    ) => {
      request.log.warn(
        { event: 'signin.sso-refused', reason: outcome.reason },
        "the IdP's answer was refused",
      );
      return html(reply, outcome.status, messagePage(outcome.title, outcome.message, true));
    };
    /** A test sign-in's answer: shown, with nothing signed in. */
    const testAnswered = (request: FastifyRequest, reply: FastifyReply, answer: TestAnswer) => {
      request.log.info(
        { event: 'signin.sso-test', outcome: answer.kind === 'refused' ? answer.reason : 'answered' },
        'a test sign-in came back from the IdP',
      );
      const status =
        answer.kind !== 'refused'
          ? 200
          : answer.reason === 'unknown-state' || answer.reason === 'connection-gone'
            ? 400
            : 401;
      return html(reply, status, testSignInPage(answer));
    };
    /** A person the IdP signed in: the grant for the organization, or the No access page. */
    const signedInAtIdp = async (
      request: FastifyRequest,
      reply: FastifyReply,
      interaction: Interaction,
      outcome: { accountId: string; identityOrganizationId: string },
      endsLogin: true | 'without-cookie',
    ) => {
      const membership = await membershipOf(db, outcome.accountId, outcome.identityOrganizationId);
      if (!membership) {
        return noAccess(
          reply,
          request,
          interaction.params,
          outcome.accountId,
          outcome.identityOrganizationId,
          'sso',
        );
      }
      return grantFor(request, reply, interaction, outcome.accountId, membership, 'sso', endsLogin);
    };

    // The IdP's answer comes to one address for every organization; the interaction's cookie is sent only to the
    // interaction's own paths, so the answer goes on there, where the browser that started it is recognized.
    app.get('/signin/sso/callback', pageRoute, async (request, reply) => {
      const query = request.raw.url?.split('?')[1] ?? '';
      const state = new URLSearchParams(query).get('state');
      const interactionUid = state ? await sso.interactionOf(state) : undefined;
      if (!interactionUid && state && (await isTestAnswer(db, state))) {
        const answer = await finishOidcTestAnswer(db, deps.sso, query);
        return testAnswered(request, reply, answer);
      }
      if (!interactionUid) return expired(reply);
      return reply
        .code(303)
        .redirect(`/signin/interaction/${encodeURIComponent(interactionUid)}/sso?${query}`);
    });

    app.get<{ Params: { uid: string } }>(
      '/signin/interaction/:uid/sso',
      pageRoute,
      async (request, reply) => {
        const interaction = await interactionOf(request, reply);
        if (!interaction) return expired(reply);
        const query = request.raw.url?.split('?')[1] ?? '';
        const outcome = await sso.finish(interaction.uid, query, request.id);
        if (outcome.kind === 'refused') return refusedByIdp(request, reply, outcome);
        return signedInAtIdp(request, reply, interaction, outcome, true);
      },
    );

    // A SAML connection's service provider metadata, for its IdP: the entity ID and ACS URL to register.
    app.get<{ Params: { connectionId: string } }>(
      '/signin/sso/saml/:connectionId/metadata',
      pageRoute,
      async (request, reply) => {
        const { connectionId } = request.params;
        // Also for the id an open setup link reserved: its IT admin registers it before the connection is saved.
        if (!(await samlIdpOf(db, connectionId)) && !(await isReservedConnectionId(db, connectionId))) {
          return html(reply, 404, messagePage('Not found', 'There is no such SAML connection.', true));
        }
        return reply
          .header('content-type', 'application/samlmetadata+xml; charset=utf-8')
          .send(serviceProviderMetadata(samlServiceProvider(settings.publicUrl, connectionId)));
      },
    );

    // The IdP's answer (HTTP-POST binding) is a cross-site POST: the interaction's SameSite cookies do not come
    // with it. The answer is checked and bound to its interaction by the sign-in kept server-side, and the
    // browser goes on from a page of this site, whose request carries the cookies (docs/decisions/0037).
    app.post<{ Params: { connectionId: string }; Body: Record<string, unknown> }>(
      '/signin/sso/saml/:connectionId/acs',
      // An IdP's response with many group claims outgrows the pages' form limit; the module bounds what it reads.
      { ...pageRoute, bodyLimit: SAML_FORM_LIMIT_BYTES },
      async (request, reply) => {
        const body = request.body ?? {};
        const text = (value: unknown) => (typeof value === 'string' ? value : '');
        const form = { samlResponse: text(body.SAMLResponse), relayState: text(body.RelayState) };
        const test = await finishSamlTestAnswer(db, deps.sso, request.params.connectionId, form, request.log);
        if (test) return testAnswered(request, reply, test);
        const outcome = await sso.finishSaml(request.params.connectionId, form, request.id, request.log);
        if (outcome.kind === 'refused') return refusedByIdp(request, reply, outcome);
        const interaction = outcome.interactionUid
          ? await (await provider()).Interaction.find(outcome.interactionUid)
          : undefined;
        if (!interaction) return expired(reply);
        return signedInAtIdp(request, reply, interaction, outcome, 'without-cookie');
      },
    );
  };
}
