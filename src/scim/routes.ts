// The SCIM routes: the admin's SCIM tokens (the API), and the SCIM 2.0 protocol a directory calls at /scim/v2.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import type { IdentityDirectory } from '../identity/port.js';
import { listOf, schemas, serviceProviderConfig, userResourceType } from './discovery.js';
import { ScimError } from './errors.js';
import { scimTokenDocs as docs } from './openapi.js';
import {
  CreateScimTokenBody,
  SCIM_BASE_PATH,
  SCIM_CONTENT_TYPE,
  ScimDocument,
  ScimErrorBody,
  ScimListQuery,
  ScimPatchBody,
  ScimTokenParams,
  ScimUser,
  ScimUserBody,
  ScimUserList,
  ScimUserParams,
} from './schemas.js';
import {
  createScimToken,
  createUser,
  deleteUser,
  getUser,
  listTokens,
  listUsers,
  noteLastRequest,
  patchUser,
  replaceUser,
  revokeScimToken,
  type ScimContext,
} from './service.js';

/** An Admin's SCIM tokens: create (the secret shown once), list, revoke. */
export function scimTokenRoutes(deps: { db: Db }): FastifyPluginAsyncTypebox {
  const { db } = deps;
  return async (app) => {
    app.post(
      '/api/organizations/scim/tokens',
      { config: { policy: 'Admin' }, schema: { ...docs.createScimToken, body: CreateScimTokenBody } },
      async (request, reply) => {
        const created = await createScimToken(
          db,
          requireAuth(request).organization,
          request.body,
          requestChange(request),
        );
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/api/organizations/scim/tokens',
      { config: { policy: 'Admin' }, schema: { ...docs.listScimTokens } },
      async (request) => listTokens(db, requireAuth(request).organization.id),
    );

    app.delete(
      '/api/organizations/scim/tokens/:id',
      { config: { policy: 'Admin' }, schema: { ...docs.revokeScimToken, params: ScimTokenParams } },
      async (request) => {
        await revokeScimToken(
          db,
          requireAuth(request).organization.id,
          request.params.id,
          requestChange(request),
        );
        return { success: true as const };
      },
    );
  };
}

/** The scimType and detail of a SCIM error body; nothing of a body that is not one. */
function errorWordsOf(body: string): { scimType?: string; detail?: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { scimType, detail } = parsed as Record<string, unknown>;
    return {
      ...(typeof scimType === 'string' ? { scimType } : {}),
      ...(typeof detail === 'string' ? { detail } : {}),
    };
  } catch {
    return {};
  }
}

/** Every status a SCIM route may answer with besides its success, each a SCIM error. */
const SCIM_ERRORS = Object.fromEntries(
  [400, 401, 403, 404, 409, 413, 415, 429, 500, 503].map((status) => [status, ScimErrorBody]),
);

/** A SCIM route's schema: hidden from the OpenAPI document (the protocol is described by /Schemas, docs/scim.md). */
function scimSchema<T extends object>(parts: T, success: Record<number, unknown>) {
  return { hide: true, ...parts, response: { ...success, ...SCIM_ERRORS } };
}

/**
 * The SCIM 2.0 protocol (RFC 7644), registered under `/scim/v2` in a scope whose errors are SCIM errors (src/http/).
 * Bodies are read as `application/scim+json` or plain JSON; answers are `application/scim+json`.
 */
export function scimRoutes(deps: {
  db: Db;
  identity: IdentityDirectory;
  baseUrl: string;
}): FastifyPluginAsyncTypebox {
  const { db, identity, baseUrl } = deps;
  const contextOf = (request: FastifyRequest): ScimContext => ({
    db,
    identity,
    organization: requireAuth(request).organization,
    change: requestChange(request),
    baseUrl,
  });
  const scim = (reply: FastifyReply, status = 200) => reply.code(status).type(SCIM_CONTENT_TYPE);
  const policy = { policy: 'Scim' as const };

  // An error answer's scimType and detail, read from its body as sent, for the token's last request.
  const errorsSent = new WeakMap<FastifyRequest, { scimType?: string; detail?: string }>();

  return async (app) => {
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode >= 400 && request.auth?.scimTokenId && typeof payload === 'string') {
        errorsSent.set(request, errorWordsOf(payload));
      }
      return payload;
    });
    // After the answer is sent, so that the directory never waits for it; a failure is only logged. A 429 did no
    // work and is not kept: a flood past the rate limit must not become a flood of writes.
    app.addHook('onResponse', async (request, reply) => {
      const tokenId = request.auth?.scimTokenId;
      if (!tokenId || reply.statusCode === 429) return;
      try {
        await noteLastRequest(db, tokenId, {
          at: new Date(),
          method: request.method,
          target: request.url.startsWith(SCIM_BASE_PATH)
            ? request.url.slice(SCIM_BASE_PATH.length)
            : request.url,
          status: reply.statusCode,
          error: errorsSent.get(request),
        });
      } catch (error) {
        request.log.warn({ err: error }, "the SCIM token's last request was not recorded");
      }
    });

    app.addContentTypeParser(
      SCIM_CONTENT_TYPE,
      { parseAs: 'string' },
      app.getDefaultJsonParser('error', 'error'),
    );

    app.get(
      '/ServiceProviderConfig',
      { config: policy, schema: scimSchema({}, { 200: ScimDocument }) },
      async (_request, reply) => scim(reply).send(serviceProviderConfig(baseUrl)),
    );
    app.get(
      '/ResourceTypes',
      { config: policy, schema: scimSchema({}, { 200: ScimDocument }) },
      async (_request, reply) => scim(reply).send(listOf([userResourceType(baseUrl)])),
    );
    app.get(
      '/ResourceTypes/:id',
      { config: policy, schema: scimSchema({ params: ScimUserParams }, { 200: ScimDocument }) },
      async (request, reply) => {
        if (request.params.id !== 'User') throw new ScimError(404, undefined, 'No such resource type.');
        return scim(reply).send(userResourceType(baseUrl));
      },
    );
    app.get(
      '/Schemas',
      { config: policy, schema: scimSchema({}, { 200: ScimDocument }) },
      async (_request, reply) => scim(reply).send(listOf(schemas(baseUrl))),
    );
    app.get(
      '/Schemas/:id',
      { config: policy, schema: scimSchema({ params: ScimUserParams }, { 200: ScimDocument }) },
      async (request, reply) => {
        const schema = schemas(baseUrl).find((candidate) => candidate.id === request.params.id);
        if (!schema) throw new ScimError(404, undefined, 'No such schema.');
        return scim(reply).send(schema);
      },
    );

    app.get(
      '/Users',
      { config: policy, schema: scimSchema({ querystring: ScimListQuery }, { 200: ScimUserList }) },
      async (request, reply) => scim(reply).send(await listUsers(contextOf(request), request.query)),
    );
    app.post(
      '/Users',
      { config: policy, schema: scimSchema({ body: ScimUserBody }, { 201: ScimUser }) },
      async (request, reply) => {
        const user = await createUser(contextOf(request), request.body);
        return scim(reply, 201).header('location', user.meta.location).send(user);
      },
    );
    app.get(
      '/Users/:id',
      { config: policy, schema: scimSchema({ params: ScimUserParams }, { 200: ScimUser }) },
      async (request, reply) => scim(reply).send(await getUser(contextOf(request), request.params.id)),
    );
    app.put(
      '/Users/:id',
      {
        config: policy,
        schema: scimSchema({ params: ScimUserParams, body: ScimUserBody }, { 200: ScimUser }),
      },
      async (request, reply) =>
        scim(reply).send(await replaceUser(contextOf(request), request.params.id, request.body)),
    );
    app.patch(
      '/Users/:id',
      {
        config: policy,
        schema: scimSchema({ params: ScimUserParams, body: ScimPatchBody }, { 200: ScimUser }),
      },
      async (request, reply) =>
        scim(reply).send(await patchUser(contextOf(request), request.params.id, request.body.Operations)),
    );
    app.delete(
      '/Users/:id',
      { config: policy, schema: scimSchema({ params: ScimUserParams }, { 204: { type: 'null' } }) },
      async (request, reply) => {
        await deleteUser(contextOf(request), request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
