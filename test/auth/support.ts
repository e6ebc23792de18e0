import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { expect } from 'vitest';
import type { Config } from '../../src/config.js';

export type SigningKey = CryptoKey | Uint8Array;

/** Signs any payload and header, as a token forger or a real identity provider would. */
export function signToken(
  key: SigningKey,
  header: JWTHeaderParameters,
  payload: JWTPayload,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** The claims the local issuer puts in a token, valid for ten minutes from now. */
export function standardClaims(
  config: Config,
  claims: { userId: string; organization: string; roles: unknown },
  overrides: JWTPayload = {},
): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    [config.auth.claims.userId]: claims.userId,
    [config.auth.claims.organization]: claims.organization,
    [config.auth.claims.roles]: claims.roles,
    sub: claims.userId,
    iss: config.auth.issuer,
    aud: config.auth.audience,
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

/** The local issuer's own private key and kid, read from its key file. */
export async function localIssuerKey(config: Config): Promise<{ key: CryptoKey; kid: string }> {
  const jwk = JSON.parse(fs.readFileSync(config.auth.localKeyFile, 'utf8')) as JWK;
  return { key: (await importJWK(jwk, 'ES256')) as CryptoKey, kid: String(jwk.kid) };
}

/** A fresh ES256 key pair with its public JWK. */
export async function newKeyPair(kid: string): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, publicJwk };
}

/** A token with `alg: none` and no signature. */
export function unsignedToken(payload: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** The token with its payload replaced, signature kept. */
export function tamper(token: string, change: (payload: JWTPayload) => JWTPayload): string {
  const [header, payload, signature] = token.split('.');
  const decoded = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as JWTPayload;
  return `${header}.${Buffer.from(JSON.stringify(change(decoded))).toString('base64url')}.${signature}`;
}

/** A 401 problem that tells the client to present a bearer token. */
export function expectUnauthorized(response: LightMyRequestResponse): void {
  expect(response.statusCode, response.body).toBe(401);
  expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status: 401, type: 'urn:salesreps:problem:unauthorized' });
}

/** A local HTTP server (port 0) serving a JWKS, counting the requests it gets. */
export async function startJwksServer(
  keys: JWK[],
): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  let requests = 0;
  const server = http.createServer((_request, response) => {
    requests += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
