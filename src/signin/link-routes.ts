// The link pages: set a password through an invitation or reset link, and ask for a new link.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { escapeHtml } from '../kernel/html.js';
import type { Csrf } from './csrf.js';
import { findOpenLink, type OpenLink } from './links.js';
import { busyMessage, field, html, pageRoute, refusedForm } from './page-replies.js';
import { messagePage, page, requestLinkPage, setPasswordPage } from './pages.js';
import type { PasswordChecks } from './password-checks.js';
import { MIN_PASSWORD_LENGTH } from './passwords.js';
import { requestLink, type SigninSettings, setPasswordByLink } from './service.js';

/** The form asking for a new link, and the form of one link: a token of another link's page is refused. */
const RESET_FORM = 'reset';
const linkForm = (token: string) => `link:${token}`;

export function linkRoutes(deps: {
  db: Db;
  csrf: Csrf;
  settings: SigninSettings;
  checks: PasswordChecks;
}): FastifyPluginAsync {
  const { db, csrf, settings, checks } = deps;
  return async (app) => {
    const linkAction = (token: string) => `/signin/link/${encodeURIComponent(token)}`;
    const invalidLink = (request: FastifyRequest, reply: FastifyReply) =>
      html(
        reply,
        410,
        requestLinkPage({
          action: '/signin/reset',
          csrf: csrf.token(request, reply, RESET_FORM),
          title: 'This link does not work any more',
          explanation:
            'The link has expired, was used already, or was replaced by a newer one. Enter your email to get a new link.',
        }),
      );

    /** The page of one open link: choose a password, with what went wrong the last time. */
    const passwordPage = (
      request: FastifyRequest<{ Params: { token: string } }>,
      reply: FastifyReply,
      link: OpenLink,
      status: number,
      error?: string,
    ) =>
      html(
        reply,
        status,
        setPasswordPage({
          action: linkAction(request.params.token),
          csrf: csrf.token(request, reply, linkForm(request.params.token)),
          email: link.email,
          organizationName: link.organizationName,
          purpose: link.purpose,
          minLength: MIN_PASSWORD_LENGTH,
          error,
        }),
      );

    app.get<{ Params: { token: string } }>('/signin/link/:token', pageRoute, async (request, reply) => {
      const link = await findOpenLink(db, request.params.token);
      if (!link) return invalidLink(request, reply);
      return passwordPage(request, reply, link, 200);
    });

    app.post<{ Params: { token: string } }>('/signin/link/:token', pageRoute, async (request, reply) => {
      if (!csrf.check(request, field(request.body, 'csrf', 200), linkForm(request.params.token)))
        return refusedForm(reply);
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
        return passwordPage(
          request,
          reply,
          link,
          outcome.kind === 'busy' ? (outcome.everyone ? 503 : 429) : 400,
          outcome.kind === 'busy' ? busyMessage(outcome) : outcome.reason,
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
          csrf: csrf.token(request, reply, RESET_FORM),
          title: 'Get a new link',
          explanation:
            'Enter your email. If it belongs to an account, a link to choose a password is mailed to it.',
          error,
        }),
      );
    app.get('/signin/reset', pageRoute, async (request, reply) => resetPage(request, reply, 200));
    app.post('/signin/reset', pageRoute, async (request, reply) => {
      if (!csrf.check(request, field(request.body, 'csrf', 200), RESET_FORM)) return refusedForm(reply);
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
