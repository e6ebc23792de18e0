// CSRF protection of the sign-in forms: a signed double submit bound to each form.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * CSRF protection of every form: a random value in a SameSite=Strict, HttpOnly cookie, and its HMAC under a
 * server secret in a hidden field (a signed double submit), bound to what the form is for (one interaction, one
 * link, the reset form). A form posted from another site carries neither, and a token taken from one form's page
 * is refused by every other form.
 */
export interface Csrf {
  /** The hidden field's value for this browser and `form`, setting the cookie when it has none. */
  token(request: FastifyRequest, reply: FastifyReply, form: string): string;
  /** Whether the posted field matches this browser's cookie and `form`. */
  check(request: FastifyRequest, field: unknown, form: string): boolean;
}

/** A cookie of the request, by name. */
export function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function createCsrf(secret: Buffer, secure: boolean): Csrf {
  // __Host- makes the browser refuse the cookie from anything but this origin over https.
  const name = secure ? '__Host-salesreps_csrf' : 'salesreps_csrf';
  // The form is a prefix of fixed shape (no colon in a cookie value), so no two pairs sign the same text.
  const sign = (value: string, form: string) =>
    createHmac('sha256', secret).update(`csrf:${form}:${value}`).digest('base64url');
  return {
    token(request, reply, form) {
      let value = cookieValue(request, name);
      if (!value || !/^[A-Za-z0-9_-]{20,64}$/.test(value)) {
        value = randomBytes(24).toString('base64url');
        reply.header(
          'set-cookie',
          `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}; Max-Age=86400`,
        );
      }
      return sign(value, form);
    },
    check(request, field, form) {
      const value = cookieValue(request, name);
      if (!value || typeof field !== 'string') return false;
      const expected = Buffer.from(sign(value, form));
      const actual = Buffer.from(field);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}
