// The request log: pino options, and URLs scrubbed of personal data and credentials before they are logged.
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { scrub } from '../kernel/scrub.js';
import { currentTracing } from '../kernel/tracing.js';

// Decoding a URL this often uncovers anything encoded that many times (%2540 is an encoded %40, an encoded @).
const MAX_DECODING_ROUNDS = 4;

/** One round of percent-decoding; an escape that is not valid UTF-8 is kept as it is, the others decoded. */
function decodeOnce(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%[0-7][0-9A-Fa-f]/g, (ascii) => decodeURIComponent(ascii));
    }
  });
}

/**
 * Path segments that are secrets in themselves: a single-use link's token sets the password of its account, and an
 * interaction's id continues a sign-in. Each is logged as its route parameter's name.
 */
const SECRET_PATH_SEGMENTS: [RegExp, string][] = [
  [/\/signin\/link\/[^/?#]*/g, '/signin/link/:token'],
  [/\/signin\/interaction\/[^/?#]*/g, '/signin/interaction/:uid'],
  [/\/oidc\/auth\/[^/?#]*/g, '/oidc/auth/:uid'],
];

/** The URL with its secret path segments replaced (SECRET_PATH_SEGMENTS), before anything else reads it. */
function withoutSecretSegments(url: string): string {
  return SECRET_PATH_SEGMENTS.reduce((text, [pattern, template]) => text.replace(pattern, template), url);
}

/**
 * A URL scrubbed as people read it: scrubbed, decoded, and scrubbed again until decoding changes nothing, so an
 * encoded (`%40`), doubly encoded (`%2540`) or `+`-spaced address, phone or credential is scrubbed like a plain
 * one. Scrubbing before each decoding redacts a credential whose value holds an encoded `&` as a whole.
 */
export function scrubUrl(url: string): string {
  let text = scrub(withoutSecretSegments(url));
  for (let round = 0; round < MAX_DECODING_ROUNDS; round++) {
    const decoded = decodeOnce(text);
    if (decoded === text) break;
    text = scrub(withoutSecretSegments(decoded));
  }
  return text;
}

/** Paths pino blanks wherever an object with them is logged: credentials and the personal fields of a rep. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'email',
  '*.email',
  'phoneNumber',
  '*.phoneNumber',
  'body',
  '*.body',
];

/**
 * The service's logger: pino JSON, redacted paths, and an error serializer that scrubs messages and stacks
 * (a database error's detail can quote the email of a duplicate row).
 */
export function loggerOptions(
  level: string,
  stream?: { write(line: string): void },
): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      err: (error: Error & { code?: unknown }) => ({
        type: error.constructor?.name ?? 'Error',
        message: scrub(error.message ?? ''),
        stack: scrub(error.stack ?? ''),
        code: error.code,
      }),
    },
    ...(stream ? { stream } : {}),
  };
}

const LEVELS_LOGGING_REQUESTS = new Set(['trace', 'debug', 'info']);

/**
 * One log line per request, written when the response is finished (Fastify's own two lines are turned off):
 * the request id comes with the request's child logger; the URL is scrubbed, its secret path segments replaced; headers and bodies are never logged.
 * With traces exported, the line carries the request's trace id (`traceId`).
 * A service logging at warn or above (production) writes no such lines, and gets no hook that would skip them on
 * every request.
 */
export function logEachRequest(app: FastifyInstance): void {
  if (!LEVELS_LOGGING_REQUESTS.has(app.log.level)) return;
  const tracing = currentTracing();
  app.addHook('onResponse', (request, reply, done) => {
    const auth = request.auth;
    const traceId = tracing?.requestTraceId(request);
    request.log.info(
      {
        method: request.method,
        url: scrubUrl(request.url),
        route: request.routeOptions.url ?? null,
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
        remoteAddress: request.ip,
        ...(auth ? { organizationId: auth.organization.id, userId: scrub(auth.principal.userId) } : {}),
        ...(traceId ? { traceId } : {}),
      },
      'request',
    );
    done();
  });
}
