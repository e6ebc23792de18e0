// The OpenAPI documentation of the operational routes (health, readiness, the local issuer's keys), with their schemas.
import { Type } from '@sinclair/typebox';
import { jsonResponse, problemResponses } from '../routing/route-schema.js';

const tags = ['Operations'];

const OperationalStatus = Type.Object({ status: Type.String({ enum: ['ok', 'ready'] }) });

const jwkText = (description: string) =>
  Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description });
export const LocalJwks = Type.Object({
  keys: Type.Array(
    Type.Object(
      {
        kty: jwkText('Key type: EC'),
        crv: jwkText('Curve: P-256'),
        x: jwkText('X coordinate, base64url'),
        y: jwkText('Y coordinate, base64url'),
        kid: jwkText('Key id'),
        alg: jwkText('Algorithm: ES256'),
        use: jwkText('Use: sig'),
      },
      { description: 'A public JWK (RFC 7517)' },
    ),
    { maxItems: 10 },
  ),
});

export const operationDocs = {
  getHealth: {
    operationId: 'getHealth',
    tags,
    summary: 'The process is up',
    description: 'Answers as long as the process runs; it does not look at the database. Never rate limited.',
    response: {
      200: jsonResponse('The process is up.', OperationalStatus, { status: 'ok' }),
      ...problemResponses(431, 500),
    },
  },

  getReadiness: {
    operationId: 'getReadiness',
    tags,
    summary: 'The database answers',
    description: 'Ready to serve: the database answers a query. Never rate limited.',
    response: {
      200: jsonResponse('The database answers.', OperationalStatus, { status: 'ready' }),
      ...problemResponses(431, 500, 503),
    },
  },

  getLocalIssuerKeys: {
    operationId: 'getLocalIssuerKeys',
    tags,
    summary: "The local token issuer's public keys",
    description:
      'The JWKS (RFC 7517) of the local issuer, served when no external identity provider is configured.',
    response: {
      200: jsonResponse('The public keys tokens are verified with.', LocalJwks, {
        keys: [
          {
            kty: 'EC',
            crv: 'P-256',
            x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
            y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
            kid: 'local-mi3k2x9a',
            alg: 'ES256',
            use: 'sig',
          },
        ],
      }),
      ...problemResponses(429, 431, 500),
    },
  },
};
