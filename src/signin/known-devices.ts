// The browsers a person has signed in from, so that a flood of others' guesses does not turn that person away.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieValue } from './csrf.js';

/** How many accounts one browser remembers, and for how long. */
const DEVICE_ACCOUNTS = 5;
const DEVICE_MAX_AGE_SECONDS = 180 * 24 * 60 * 60;
const TOKEN = /^[A-Za-z0-9_-]{22}$/;

/**
 * OWASP's device cookies: after a password sign-in, the browser keeps a signed token of the email (an HMAC under
 * a server secret, so no one can make one for an email they have not signed in with), and a later attempt for
 * that email from that browser takes the lane of known devices in the password checks, which others' guesses
 * cannot fill. The token grants no access: the password is checked as always.
 */
export interface KnownDevices {
  /** Whether this browser has signed in with `email` before. */
  isKnown(request: FastifyRequest, email: string): boolean;
  /** Remembers that this browser signed in with `email`. */
  remember(request: FastifyRequest, reply: FastifyReply, email: string): void;
}

export function createKnownDevices(secret: Buffer, secure: boolean): KnownDevices {
  const name = secure ? '__Host-salesreps_device' : 'salesreps_device';
  const tokenOf = (email: string) =>
    createHmac('sha256', secret).update(`device:${email.toLowerCase()}`).digest('base64url').slice(0, 22);
  const tokensOf = (request: FastifyRequest) =>
    (cookieValue(request, name) ?? '')
      .split('.')
      .filter((token) => TOKEN.test(token))
      .slice(0, DEVICE_ACCOUNTS);
  return {
    isKnown(request, email) {
      const expected = Buffer.from(tokenOf(email));
      return tokensOf(request).some((token) => timingSafeEqual(Buffer.from(token), expected));
    },
    remember(request, reply, email) {
      const token = tokenOf(email);
      const tokens = [token, ...tokensOf(request).filter((kept) => kept !== token)].slice(0, DEVICE_ACCOUNTS);
      reply.header(
        'set-cookie',
        `${name}=${tokens.join('.')}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}; Max-Age=${DEVICE_MAX_AGE_SECONDS}`,
      );
    },
  };
}
