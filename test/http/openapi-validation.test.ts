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
});
