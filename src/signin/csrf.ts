import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * CSRF protection of every form: a random value in a SameSite=Strict, HttpOnly cookie, and its HMAC under a
 * server secret in a hidden field (a signed double submit). A form posted from another site carries neither.
 */
export interface Csrf {
  /** The hidden field's value for this browser, setting the cookie when it has none. */
  token(request: FastifyRequest, reply: FastifyReply): string;
  /** Whether the posted field matches this browser's cookie. */
  check(request: FastifyRequest, field: unknown): boolean;
}

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
  const sign = (value: string) => createHmac('sha256', secret).update(`csrf:${value}`).digest('base64url');
  return {
    token(request, reply) {
      let value = cookieValue(request, name);
      if (!value || !/^[A-Za-z0-9_-]{20,64}$/.test(value)) {
        value = randomBytes(24).toString('base64url');
        reply.header(
          'set-cookie',
          `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}; Max-Age=86400`,
        );
      }
      return sign(value);
    },
    check(request, field) {
      const value = cookieValue(request, name);
      if (!value || typeof field !== 'string') return false;
      const expected = Buffer.from(sign(value));
      const actual = Buffer.from(field);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}
