// Refusing request bodies sent with a content coding (415) instead of parsing them as plain.
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../kernel/problem.js';

/**
 * A preParsing hook: request bodies are read as sent, so a body with a content coding (`Content-Encoding: gzip`)
 * is refused with 415 and `Accept-Encoding: identity` (RFC 9110 §15.5.16) rather than parsed as if it were plain.
 */
export async function refuseEncodedBodies(request: FastifyRequest): Promise<void> {
  const coding = request.headers['content-encoding'];
  // Only routes that read a body: elsewhere a body is ignored, whatever its coding.
  if (request.routeOptions.schema?.body === undefined) return;
  if (coding === undefined || coding.trim().toLowerCase() === 'identity') return;
  const hasBody =
    request.headers['transfer-encoding'] !== undefined ||
    (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');
  if (!hasBody) return;
  throw new ProblemError(
    415,
    'unsupported-content-encoding',
    'Request bodies with a Content-Encoding are not accepted; send the body uncompressed.',
    undefined,
    { 'accept-encoding': 'identity' },
  );
}
