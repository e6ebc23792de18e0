// Serving the built console under /console/, and the sign-in settings it reads at start.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../kernel/problem.js';
import type { ConsoleSignIn } from './console-sign-in.js';

/** `npm run build` writes the console here (console/vite.config.ts); the same path from src/ and dist/. */
export const CONSOLE_BUILD_DIR = path.resolve(fileURLToPath(import.meta.url), '../../../dist/console');

interface ConsoleFile {
  type: string;
  identity: Buffer;
  br: Buffer;
  gzip: Buffer;
  /** Hashed names never change: cached for a year. index.html is revalidated each time. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const filesByDirectory = new Map<string, Map<string, ConsoleFile> | undefined>();

/**
 * The built files with the Brotli and gzip copies the build wrote beside each (console/vite.config.ts), read once
 * per process: a handful of small files, served from memory.
 */
function readConsoleFiles(directory: string): Map<string, ConsoleFile> | undefined {
  if (filesByDirectory.has(directory)) return filesByDirectory.get(directory);
  let files: Map<string, ConsoleFile> | undefined;
  if (statSync(path.join(directory, 'index.html'), { throwIfNoEntry: false })) {
    files = new Map();
    for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || /\.(br|gz)$/.test(entry.name)) continue;
      const absolute = path.join(entry.parentPath, entry.name);
      const relative = path.relative(directory, absolute).split(path.sep).join('/');
      files.set(relative, {
        type: TYPES[path.extname(entry.name)] ?? 'application/octet-stream',
        identity: readFileSync(absolute),
        br: readFileSync(`${absolute}.br`),
        gzip: readFileSync(`${absolute}.gz`),
        immutable: relative.startsWith('assets/'),
      });
    }
  }
  filesByDirectory.set(directory, files);
  return files;
}

/**
 * The console's own policy: scripts and styles from this origin only (no inline script or style), and fetches to
 * this origin and the issuer's (discovery, token and refresh) when it is another.
 */
function consoleSecurityPolicy(issuer: string | undefined): string {
  const issuerOrigin = issuer ? new URL(issuer).origin : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${issuerOrigin}`.trim(),
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Brotli, else gzip, when Accept-Encoding admits it (a coding given `q=0` is refused, RFC 9110 12.5.3). */
function acceptedCoding(request: FastifyRequest): 'br' | 'gzip' | undefined {
  const admitted = new Set<string>();
  for (const part of String(request.headers['accept-encoding'] ?? '').split(',')) {
    const [coding = '', ...parameters] = part.trim().toLowerCase().split(';');
    const q = parameters.map((parameter) => parameter.trim()).find((parameter) => parameter.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) admitted.add(coding.trim());
  }
  if (admitted.has('br')) return 'br';
  if (admitted.has('gzip')) return 'gzip';
  return undefined;
}

function send(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile, policy: string): FastifyReply {
  const coding = acceptedCoding(request);
  reply
    .type(file.type)
    .header('vary', 'accept-encoding')
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('content-security-policy', policy);
  if (coding) reply.header('content-encoding', coding);
  return reply.send(coding ? file[coding] : file.identity);
}

/**
 * The web console (docs/console.md): `/` leads to it, `/console/config.json` tells it where to sign in, every
 * other path under `/console/` is the single page (its router reads the path), and `/console/assets/` holds the
 * built, hashed files.
 */
export function consoleRoutes(
  app: FastifyInstance,
  signIn: ConsoleSignIn | undefined,
  directory = CONSOLE_BUILD_DIR,
): void {
  const files = readConsoleFiles(directory);
  if (!files) app.log.warn({ directory }, 'the console is not built (npm run build): /console/ answers 404');
  const policy = consoleSecurityPolicy(signIn?.issuer);
  const config = { policy: 'public' as const };

  app.get('/', { config, schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));

  app.get('/console/config.json', { config, schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return signIn ? { signIn } : { signIn: null };
  });

  app.get('/console/*', { config, schema: { hide: true } }, async (request, reply) => {
    const wanted = (request.params as { '*': string })['*'];
    const file = files?.get(wanted) ?? (wanted.startsWith('assets/') ? undefined : files?.get('index.html'));
    if (!file) {
      return reply
        .code(404)
        .type(PROBLEM_CONTENT_TYPE)
        .send(problemBody(404, 'not-found', `No console file ${request.url.split('?')[0]}.`, request.id));
    }
    return send(request, reply, file, policy);
  });
}
