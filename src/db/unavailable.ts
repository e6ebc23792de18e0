// Which database errors mean "unavailable, try again" (503) rather than a wrong request.
import { QUERY_READ_TIMEOUT } from './postgres-pool.js';

// PostgreSQL error classes that mean "the database cannot serve now, try again", not "this request is wrong":
// 08 connection exception, 53 insufficient resources, 57P01–57P05 shutdown/restart/idle, 57014 a statement that ran
// out of statement_timeout.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-5]$|57014$)/;

// Network failures of the socket to the server.
const UNAVAILABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

// node-postgres reports its own time-outs and broken connections with these messages and no code.
const UNAVAILABLE_DRIVER_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  QUERY_READ_TIMEOUT,
  'is not queryable',
];

/** Whether an error means the database is unreachable or restarting: the request is answered 503, not 500. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_NETWORK_CODES.has(code))
    ) {
      return true;
    }
    if (
      UNAVAILABLE_DRIVER_MESSAGES.some((message) => cause instanceof Error && cause.message.includes(message))
    ) {
      return true;
    }
    if (cause instanceof AggregateError && cause.errors.some(isDatabaseUnavailable)) return true;
    cause = cause.cause;
  }
  return false;
}
