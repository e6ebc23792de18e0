// The setup link's pages: an organization's IT admin sets and tests its connection without an account.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { ProblemError } from '../kernel/problem.js';
import { compileValidator } from '../kernel/validation.js';
import { PutConnectionBody } from '../sso/schemas.js';
import { type SsoSettings, samlServiceProvider, ssoCallbackUrl } from '../sso/service.js';
import { openSetupLink, SetupLinkGoneError, saveThroughSetupLink } from '../sso/setup-links.js';
import { startTestOf } from '../sso/test-sign-in.js';
import type { Csrf } from './csrf.js';
import { field, html, pageRoute, refusedForm } from './page-replies.js';
import { messagePage } from './pages.js';
import { emptySetupForm, type SetupFormValues, setupPage, setupSavedPage } from './sso-setup-pages.js';

/** The form may carry an IdP's metadata XML (up to the connection's bound), URL-encoded. */
const SETUP_FORM_LIMIT_BYTES = 3 * 1024 * 1024;
const METADATA_XML_MAX = 1_000_000;

const setupForm = (token: string) => `sso-setup:${token}`;

const validBody = compileValidator(PutConnectionBody, 'body');

/** The form's fields as the body of PUT /api/organizations/sso (the protocol chosen decides which are sent). */
function bodyOf(form: SetupFormValues, clientSecret: string): unknown {
  const domains = form.domains
    .split(/[\s,]+/)
    .map((domain) => domain.trim())
    .filter((domain) => domain !== '');
  const common = { domains, passwordSignIn: form.passwordSignIn };
  if (form.protocol === 'oidc') {
    return { protocol: 'oidc', issuer: form.issuer, clientId: form.clientId, clientSecret, ...common };
  }
  return form.metadataUrl.trim() !== ''
    ? { protocol: 'saml', metadataUrl: form.metadataUrl.trim(), ...common }
    : { protocol: 'saml', metadataXml: form.metadataXml, ...common };
}

export function ssoSetupRoutes(deps: { db: Db; csrf: Csrf; sso: SsoSettings }): FastifyPluginAsync {
  const { db, csrf, sso } = deps;
  return async (app) => {
    const unknownLink = (reply: FastifyReply) =>
      html(
        reply,
        404,
        messagePage(
          'Link not valid',
          'This setup link is not valid. Ask your administrator for a new one.',
          true,
        ),
      );
    const goneLink = (reply: FastifyReply) =>
      html(
        reply,
        410,
        messagePage(
          'This link does not work any more',
          'This setup link has expired, was used already, or was replaced by a newer one. Ask your administrator for a new one.',
          true,
        ),
      );

    /** The setup page of an open link, with what was typed and what went wrong. */
    const pageOf = async (
      request: FastifyRequest<{ Params: { token: string } }>,
      reply: FastifyReply,
      status: number,
      form?: SetupFormValues,
      error?: string,
    ) => {
      const { token } = request.params;
      const link = await openSetupLink(db, sso, token);
      if (link.kind === 'unknown') return unknownLink(reply);
      if (link.kind === 'gone') return goneLink(reply);
      const sp = samlServiceProvider(sso.publicUrl, link.connectionId);
      const path = `/sso/setup/${encodeURIComponent(token)}`;
      return html(
        reply,
        status,
        setupPage({
          action: path,
          csrf: csrf.token(request, reply, setupForm(token)),
          organizationName: link.organization.name,
          expiresAt: link.expiresAt,
          values: {
            redirectUri: ssoCallbackUrl(sso.publicUrl),
            spEntityId: sp.entityId,
            acsUrl: sp.acsUrl,
            spMetadataUrl: sp.entityId,
          },
          current: link.current,
          testHref: link.current ? `${path}/test` : undefined,
          form: form ?? emptySetupForm(link.current),
          error,
        }),
      );
    };

    app.get<{ Params: { token: string } }>('/sso/setup/:token', pageRoute, (request, reply) =>
      pageOf(request, reply, 200),
    );

    app.post<{ Params: { token: string } }>(
      '/sso/setup/:token',
      { ...pageRoute, bodyLimit: SETUP_FORM_LIMIT_BYTES },
      async (request, reply) => {
        const { token } = request.params;
        if (!csrf.check(request, field(request.body, 'csrf', 200), setupForm(token)))
          return refusedForm(reply);
        const text = (name: string, max: number) => field(request.body, name, max) ?? '';
        const form: SetupFormValues = {
          protocol: text('protocol', 10) === 'saml' ? 'saml' : 'oidc',
          issuer: text('issuer', 2000).trim(),
          clientId: text('clientId', 500).trim(),
          metadataUrl: text('metadataUrl', 2000),
          metadataXml: text('metadataXml', METADATA_XML_MAX),
          domains: text('domains', 13_000),
          passwordSignIn: text('passwordSignIn', 10) === 'true',
        };
        const body = bodyOf(form, text('clientSecret', 2000));
        const valid = validBody(body);
        if (valid !== true) {
          const fields = (valid.error.errors ?? []).map((each) => each.field).filter((name) => name !== '');
          return pageOf(
            request,
            reply,
            400,
            form,
            `Check ${fields.length > 0 ? [...new Set(fields)].join(', ') : 'the form'}: ${valid.error.detail}`,
          );
        }
        let saved: Awaited<ReturnType<typeof saveThroughSetupLink>>;
        try {
          saved = await saveThroughSetupLink(db, sso, token, body as PutConnectionBody, request.id);
        } catch (error) {
          if (error instanceof SetupLinkGoneError) {
            const link = await openSetupLink(db, sso, token);
            return link.kind === 'unknown' ? unknownLink(reply) : goneLink(reply);
          }
          if (error instanceof ProblemError && error.status < 500) {
            const detail = error.errors?.map((each) => `${each.field}: ${each.message}`).join('; ');
            return pageOf(
              request,
              reply,
              error.status,
              form,
              detail ? `${error.detail} ${detail}` : error.detail,
            );
          }
          throw error;
        }
        request.log.info({ event: 'sso.setup-link-used' }, 'a connection was saved through a setup link');
        let testHref: string | undefined;
        try {
          testHref = await startTestOf(db, sso, saved.connectionId);
        } catch (error) {
          if (!(error instanceof ProblemError)) throw error;
        }
        return html(
          reply,
          200,
          setupSavedPage({
            organizationName: saved.organizationName,
            connection: saved.connection,
            testHref,
          }),
        );
      },
    );

    // A test sign-in of the connection set, from the setup page: straight on to the IdP.
    app.get<{ Params: { token: string } }>('/sso/setup/:token/test', pageRoute, async (request, reply) => {
      const link = await openSetupLink(db, sso, request.params.token);
      if (link.kind === 'unknown') return unknownLink(reply);
      if (link.kind === 'gone') return goneLink(reply);
      if (!link.current) {
        return html(
          reply,
          404,
          messagePage('No connection yet', 'Save a connection first, then test it.', true),
        );
      }
      try {
        return reply.code(303).redirect(await startTestOf(db, sso, link.connectionId));
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        return html(
          reply,
          502,
          messagePage(
            'Test unavailable',
            'The identity provider cannot be reached just now. Try again later.',
            true,
          ),
        );
      }
    });
  };
}
