import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendChecked } from '../support/openapi-validator.js';

/** A document of one operation: 200 with `{ name }` and a required `X-Total-Count`, or a 404 problem. */
const document = {
  openapi: '3.1.0',
  info: { title: 'One operation', version: '1' },
  paths: {
    '/things/{id}': {
      get: {
        operationId: 'getThing',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'The thing.',
            headers: { 'X-Total-Count': { required: true, schema: { type: 'integer' } } },
            content: {
              'application/json': {
                schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
              },
            },
          },
          '404': {
            description: 'No such thing.',
            content: {
              'application/problem+json': {
                schema: {
                  type: 'object',
                  required: ['status'],
                  properties: { status: { type: 'integer' } },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** What the app answers for each id: the declared answer, and each way of straying from the document. */
const answers: Record<string, (reply: import('fastify').FastifyReply) => unknown> = {
  declared: (reply) => reply.header('x-total-count', '1').send({ name: 'ok' }),
  extraField: (reply) => reply.header('x-total-count', '1').send({ name: 'ok', secret: 'leaked' }),
  extraHeader: (reply) => reply.header('x-total-count', '1').header('x-debug', 'on').send({ name: 'ok' }),
  missingHeader: (reply) => reply.send({ name: 'ok' }),
  undeclaredStatus: (reply) => reply.code(409).type('application/problem+json').send({ status: 409 }),
  wrongMediaType: (reply) => reply.header('x-total-count', '1').type('text/plain').send('ok'),
  missing: (reply) => reply.code(404).type('application/problem+json').send({ status: 404 }),
};

describe('the contract tests’ response check (Prism against the served document)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    app.get('/things/:id', async (request, reply) => answers[(request.params as { id: string }).id]?.(reply));
    await app.ready();
  });
  afterAll(() => app.close());

  const send = (url: string) =>
    sendChecked(document, {
      method: 'GET',
      url,
      send: () => app.inject({ method: 'GET', url }),
      hidden: () => false,
    });

  it('passes a response whose status, headers and body the document declares', async () => {
    expect((await send('/things/declared')).statusCode).toBe(200);
    expect((await send('/things/missing')).statusCode).toBe(404);
  });

  it('fails a response with a field its schema does not declare', async () => {
    await expect(send('/things/extraField')).rejects.toThrow(/secret|additional/i);
  });

  it('fails a response with a header its status does not declare', async () => {
    await expect(send('/things/extraHeader')).rejects.toThrow(/header x-debug is not declared/);
  });

  it('fails a response without a header the document declares as required', async () => {
    await expect(send('/things/missingHeader')).rejects.toThrow(/x-total-count/i);
  });

  it('fails a response whose status the operation does not declare, 4xx included', async () => {
    await expect(send('/things/undeclaredStatus')).rejects.toThrow(/status code/);
  });

  it('fails a response of a media type the status does not declare', async () => {
    await expect(send('/things/wrongMediaType')).rejects.toThrow(/media type/);
  });

  it('fails an answer other than 404 or 405 to a request the document has no operation for', async () => {
    await expect(
      sendChecked(document, {
        method: 'GET',
        url: '/elsewhere',
        send: async () => app.inject({ method: 'GET', url: '/things/declared' }),
        hidden: () => false,
      }),
    ).rejects.toThrow(/no operation/);
  });

  describe('a CORS preflight, which the document leaves out', () => {
    let cors: FastifyInstance;
    /** What the preflight of each path answers: CORS's own, and each way of straying from it. */
    const preflights: Record<string, (reply: import('fastify').FastifyReply) => unknown> = {
      '/cors': (reply) =>
        reply
          .code(204)
          .header('access-control-allow-origin', 'https://app.example')
          .header('access-control-allow-methods', 'GET')
          .header('access-control-allow-headers', 'Authorization')
          .header('access-control-max-age', '600')
          .send(),
      '/withHeader': (reply) => reply.code(204).header('x-debug', 'on').send(),
      '/asOk': (reply) => reply.code(200).send(),
    };
    beforeAll(async () => {
      cors = Fastify();
      cors.options('/*', async (request, reply) => preflights[request.url]?.(reply));
      await cors.ready();
    });
    afterAll(() => cors.close());

    const preflight = (url: string, headers: Record<string, string>) =>
      sendChecked(document, {
        method: 'OPTIONS',
        url,
        headers,
        send: () => cors.inject({ method: 'OPTIONS', url, headers }),
        hidden: () => false,
      });
    const asked = { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' };

    it('passes a preflight answered 204 with CORS headers only, on a path the document has no operation for', async () => {
      expect((await preflight('/cors', asked)).statusCode).toBe(204);
    });

    it('fails a preflight with a header that is not CORS’s, or another status than 204 (no content)', async () => {
      await expect(preflight('/withHeader', asked)).rejects.toThrow(/header x-debug/);
      await expect(preflight('/asOk', asked)).rejects.toThrow(/status 200/);
    });

    it('holds an OPTIONS request without Origin and Access-Control-Request-Method to the document', async () => {
      await expect(preflight('/cors', { Origin: 'https://app.example' })).rejects.toThrow(/no operation/);
    });
  });
});
