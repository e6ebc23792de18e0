import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML from 'yaml';

const SPEC_FILE = new URL('../../fixtures/kinde/management-api.subset.yaml', import.meta.url);

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required?: boolean;
  schema: { type: string };
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: object } } };
}
interface Route {
  method: string;
  pattern: RegExp;
  pathNames: string[];
  operation: Operation;
  validateBody: ValidateFunction | undefined;
}

interface KindeUser {
  id: string;
  email: string;
  first_name?: string;
  last_name?: string;
  organizations: Map<string, string[]>;
}

/** Object schemas of the description made closed, so that a property the description does not name is refused. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    copy[key] = key === 'example' ? undefined : closed(value);
  }
  if (copy.type === 'object' && copy.properties && copy.additionalProperties === undefined) {
    copy.additionalProperties = false;
  }
  return copy;
}

/**
 * A local Kinde: answers the Management API operations of test/fixtures/kinde as their description says, keeps
 * users and organization memberships, and REJECTS (400, and counts in `rejected`) any request the description does
 * not allow: unknown path or method, unknown or mistyped query parameter, a body that does not match its schema,
 * a missing or unknown bearer token. `faults` injects outages: a number of 500s, or 429s with Retry-After, and
 * `lostResponses` operations that are carried out but answered 500 (a response lost on the way); with `operation`
 * set, only that operation's requests fail. `faultsServed` counts the requests a fault answered.
 */
export async function startFakeKinde(credentials: {
  clientId: string;
  clientSecret: string;
  audience?: string;
}) {
  const spec = YAML.parse(fs.readFileSync(SPEC_FILE, 'utf8')) as {
    paths: Record<string, Record<string, Operation>>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  const routes: Route[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    const pathNames: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/\{(\w+)\}/g, (_match, name: string) => {
        pathNames.push(name);
        return '([^/]+)';
      })}$`,
    );
    for (const [method, operation] of Object.entries(methods)) {
      const schema = operation.requestBody?.content['application/json'].schema;
      routes.push({
        method: method.toUpperCase(),
        pattern,
        pathNames,
        operation,
        validateBody: schema ? ajv.compile(closed(schema) as object) : undefined,
      });
    }
  }

  const users = new Map<string, KindeUser>();
  const tokens = new Set<string>();
  const state = {
    rejected: [] as string[],
    calls: [] as string[],
    tokensIssued: 0,
    faultsServed: 0,
    faults: {
      serverErrors: 0,
      rateLimited: 0,
      retryAfterSeconds: 1,
      lostResponses: 0,
      operation: undefined as string | undefined,
    },
  };

  const send = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const reject = (response: ServerResponse, what: string) => {
    state.rejected.push(what);
    send(response, 400, { errors: [{ code: 'INVALID_REQUEST', message: what }] });
  };

  const handle = (request: IncomingMessage, response: ServerResponse, raw: string) => {
    const url = new URL(request.url ?? '/', 'http://kinde.test');
    const method = request.method ?? 'GET';
    if (method === 'POST' && url.pathname === '/oauth2/token') {
      const form = new URLSearchParams(raw);
      if (
        request.headers['content-type'] !== 'application/x-www-form-urlencoded' ||
        form.get('grant_type') !== 'client_credentials' ||
        form.get('client_id') !== credentials.clientId ||
        form.get('client_secret') !== credentials.clientSecret ||
        (credentials.audience !== undefined && form.get('audience') !== credentials.audience)
      ) {
        state.rejected.push('token request');
        return send(response, 401, { error: 'invalid_client' });
      }
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      state.tokensIssued++;
      return send(response, 200, { access_token: token, expires_in: 86_400, token_type: 'bearer' });
    }

    const route = routes.find(
      (candidate) => candidate.method === method && candidate.pattern.test(url.pathname),
    );
    if (!route) return reject(response, `no operation ${method} ${url.pathname}`);
    const token = request.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    if (!token || !tokens.has(token)) {
      state.rejected.push(`${route.operation.operationId}: bad token`);
      return send(response, 403, { errors: [{ code: 'FORBIDDEN', message: 'invalid token' }] });
    }
    const declared = new Map(
      (route.operation.parameters ?? []).map((parameter) => [parameter.name, parameter]),
    );
    for (const [name, value] of url.searchParams) {
      const parameter = declared.get(name);
      if (parameter?.in !== 'query')
        return reject(response, `${route.operation.operationId}: unknown query ${name}`);
      if (parameter.schema.type === 'boolean' && value !== 'true' && value !== 'false') {
        return reject(response, `${route.operation.operationId}: ${name} is not a boolean`);
      }
    }
    for (const parameter of declared.values()) {
      if (parameter.in === 'query' && parameter.required && !url.searchParams.has(parameter.name)) {
        return reject(response, `${route.operation.operationId}: missing ${parameter.name}`);
      }
    }
    let body: unknown;
    if (raw) {
      if (!route.validateBody || !String(request.headers['content-type']).startsWith('application/json')) {
        return reject(response, `${route.operation.operationId}: unexpected body`);
      }
      body = JSON.parse(raw);
      if (!route.validateBody(body)) {
        return reject(
          response,
          `${route.operation.operationId}: ${ajv.errorsText(route.validateBody.errors)}`,
        );
      }
    }
    const faulty =
      state.faults.operation === undefined || state.faults.operation === route.operation.operationId;
    if (faulty && state.faults.serverErrors > 0) {
      state.faults.serverErrors--;
      state.faultsServed++;
      return send(response, 500, { errors: [{ code: 'INTERNAL', message: 'injected' }] });
    }
    if (faulty && state.faults.rateLimited > 0) {
      state.faults.rateLimited--;
      state.faultsServed++;
      return send(
        response,
        429,
        { errors: [{ code: 'TOO_MANY_REQUESTS', message: 'injected' }] },
        {
          'retry-after': String(state.faults.retryAfterSeconds),
        },
      );
    }
    const match = url.pathname.match(route.pattern) ?? [];
    const params = Object.fromEntries(
      route.pathNames.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
    );
    state.calls.push(route.operation.operationId);
    if (faulty && state.faults.lostResponses > 0) {
      state.faults.lostResponses--;
      state.faultsServed++;
      // Carried out, but the caller never learns it: the answer is replaced by a 500.
      const discarded = { writeHead: () => ({ end: () => {} }) } as unknown as ServerResponse;
      operate(
        route.operation.operationId,
        params,
        url.searchParams,
        body as Record<string, never>,
        discarded,
      );
      return send(response, 500, { errors: [{ code: 'INTERNAL', message: 'injected after the change' }] });
    }
    return operate(
      route.operation.operationId,
      params,
      url.searchParams,
      body as Record<string, never>,
      response,
    );
  };

  const view = (user: KindeUser) => ({
    id: user.id,
    email: user.email,
    first_name: user.first_name,
    last_name: user.last_name,
    is_suspended: false,
    organizations: [...user.organizations.keys()],
  });

  const operate = (
    operationId: string,
    params: Record<string, string>,
    query: URLSearchParams,
    body: Record<string, never> | undefined,
    response: ServerResponse,
  ) => {
    switch (operationId) {
      case 'getUsers': {
        const email = query.get('email')?.toLowerCase();
        const id = query.get('user_id');
        const found = [...users.values()].filter(
          (user) =>
            (email === undefined || user.email.toLowerCase() === email) && (id === null || user.id === id),
        );
        return send(response, 200, { code: 'OK', message: 'Success', users: found.map(view) });
      }
      case 'createUser': {
        const input = body as {
          profile?: { given_name?: string; family_name?: string };
          identities?: { details?: { email?: string } }[];
        };
        const email = input.identities?.[0]?.details?.email;
        if (!email) return reject(response, 'createUser: no email identity');
        if ([...users.values()].some((user) => user.email.toLowerCase() === email.toLowerCase())) {
          return send(response, 400, { errors: [{ code: 'USER_ALREADY_EXISTS', message: 'exists' }] });
        }
        const id = `kp_${randomBytes(16).toString('hex')}`;
        users.set(id, {
          id,
          email,
          first_name: input.profile?.given_name,
          last_name: input.profile?.family_name,
          organizations: new Map(),
        });
        return send(response, 200, { id, created: true });
      }
      case 'deleteUser': {
        const id = query.get('id') ?? '';
        if (!users.delete(id))
          return send(response, 400, { errors: [{ code: 'USER_INVALID', message: 'no such user' }] });
        return send(response, 200, { code: 'OK', message: 'Success' });
      }
      case 'AddOrganizationUsers': {
        const input = body as { users?: { id: string; roles?: string[] }[] };
        const added: string[] = [];
        for (const entry of input.users ?? []) {
          const user = users.get(entry.id);
          if (!user)
            return send(response, 400, { errors: [{ code: 'USER_INVALID', message: 'no such user' }] });
          user.organizations.set(params.org_code ?? '', entry.roles ?? []);
          added.push(entry.id);
        }
        return send(response, 200, { code: 'OK', message: 'Success', users_added: added });
      }
      case 'RemoveOrganizationUser': {
        const user = users.get(params.user_id ?? '');
        if (!user?.organizations.delete(params.org_code ?? '')) {
          return send(response, 400, { errors: [{ code: 'NOT_A_MEMBER', message: 'not a member' }] });
        }
        return send(response, 200, { code: 'OK', message: 'Success' });
      }
      default:
        return reject(response, `unhandled ${operationId}`);
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    users,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
