// What the sign-in's pages answer with: the HTML reply with its headers, and the replies several pages share.
import type { FastifyReply } from 'fastify';
import { messagePage, pageSecurityPolicy } from './pages.js';

/** The options of every page route: public, and not in the OpenAPI document. */
export const pageRoute = { config: { policy: 'public' as const }, schema: { hide: true } };

/** A page: HTML never stored, under a policy allowing forms to post only to `formTargets` besides this service. */
export function html(reply: FastifyReply, status: number, body: string, formTargets: string[] = []) {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', pageSecurityPolicy(formTargets))
    .send(body);
}

/** A form posted without the CSRF token of its browser. */
export function refusedForm(reply: FastifyReply) {
  return html(
    reply,
    403,
    messagePage('Form expired', 'The form expired. Go back, reload the page and try again.', true),
  );
}

/** The page's words for a check refused for being one too many at once. */
export function busyMessage(busy: { everyone: boolean; seconds: number }): string {
  return busy.everyone
    ? `The sign-in is busy. Try again in ${busy.seconds} seconds.`
    : `Too many attempts at once. Try again in ${busy.seconds} seconds.`;
}

/** A form field as text, or undefined when absent, repeated or too long (a form is never trusted to be well-formed). */
export function field(body: unknown, name: string, max: number): string | undefined {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value.length <= max ? value : undefined;
}
