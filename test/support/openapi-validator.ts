// Every response of the test service's request helper checked against the served OpenAPI document by Prism.
import {
  createInstance,
  getHttpOperationsFromSpec,
  type IHttpRequest,
  type IHttpResponse,
} from '@stoplight/prism-http';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

type PrismComponents = Parameters<typeof createInstance>[1];
type Forward = NonNullable<PrismComponents['forward']>;
type HttpOperation = NonNullable<Parameters<Forward>[3]>;

/**
 * Headers of HTTP itself and of the browser protections every response carries, which the document does not
 * describe (docs/api.md, "The OpenAPI document"): the framing and caching of a message, helmet's security headers
 * and CORS's own. Every other header a response sends must be declared for its status; `Content-Type` is checked
 * by Prism against the declared media types.
 */
const HTTP_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'vary',
  'cache-control',
  'pragma',
  'expires',
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
  'access-control-allow-credentials',
  'access-control-expose-headers',
]);

/** What a CORS preflight may answer besides HTTP's own headers: the Fetch standard's, not an operation's. */
const PREFLIGHT_HEADERS = new Set([
  ...HTTP_HEADERS,
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
  'x-request-id',
]);

/**
 * Statuses the service answers for a method and path the document does not have (problem+json, docs/api.md): 404
 * and 405, or 400, 413 and 415 for a body it cannot read, which is refused before any route, known or not, is run.
 */
const UNKNOWN_ROUTE_STATUSES = new Set([400, 404, 405, 413, 415]);

/** A logger that says nothing: Prism's own log lines would only repeat what a failed check reports. */
const quietLogger: PrismComponents['logger'] = new Proxy(
  {},
  { get: (_target, name) => (name === 'child' ? () => quietLogger : () => undefined) },
) as PrismComponents['logger'];

/**
 * Each object schema closed to the fields it declares (`additionalProperties: false` where it says nothing of
 * others), so that a response field the document does not declare fails the check. Only the validator's copy is
 * closed: the published document leaves room for fields added later.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== 'object') return node;
  const closed = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, closeObjects(value)]));
  const open = !(
    'additionalProperties' in closed ||
    'patternProperties' in closed ||
    'unevaluatedProperties' in closed
  );
  if ('properties' in closed && typeof closed.properties === 'object' && open) {
    closed.additionalProperties = false;
  }
  return closed;
}

const operationsByDocument = new WeakMap<object, Promise<HttpOperation[]>>();
const operationsByText = new Map<string, Promise<HttpOperation[]>>();

/**
 * Prism's operations of a document (the app's own, which it keeps), worked out once per document, and shared by the
 * services of a test worker that serve the same one, so that Prism compiles each schema once. The test service asks
 * for them as it starts, so that a test's first request does not pay for it (a token about to expire).
 */
export function operationsOf(document: object): Promise<HttpOperation[]> {
  let operations = operationsByDocument.get(document);
  if (!operations) {
    const text = JSON.stringify(document);
    operations =
      operationsByText.get(text) ?? getHttpOperationsFromSpec(closeObjects(JSON.parse(text)) as object);
    operationsByText.set(text, operations);
    operationsByDocument.set(document, operations);
  }
  return operations;
}

/** What Prism reads of a response: the status, the headers as text, the body parsed when it is JSON. */
function asPrismResponse(response: LightMyRequestResponse): IHttpResponse {
  const headers = Object.fromEntries(
    Object.entries(response.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : String(value),
    ]),
  );
  const json = /^application\/(?:[\w.-]+\+)?json\b/.test(headers['content-type'] ?? '');
  const body = response.body === '' ? undefined : json ? response.json() : response.body;
  return { statusCode: response.statusCode, headers, body };
}

/** The request as Prism routes it: the method, the path and the query. */
function asPrismRequest(method: string, url: string): IHttpRequest {
  const parsed = new URL(url, 'http://service.test');
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of parsed.searchParams) {
    const earlier = query[name];
    query[name] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value];
  }
  return {
    method: method.toLowerCase() as IHttpRequest['method'],
    url: { path: parsed.pathname, query },
  };
}

/** The headers a response sends that its operation does not declare for its status (nor HTTP itself). */
function undeclaredHeaders(operation: HttpOperation, response: IHttpResponse): string[] {
  const declared = operation.responses.find((candidate) => candidate.code === String(response.statusCode));
  if (!declared) return [];
  const names = new Set((declared.headers ?? []).map((header) => header.name.toLowerCase()));
  return Object.keys(response.headers ?? {}).filter((name) => !HTTP_HEADERS.has(name) && !names.has(name));
}

export interface CheckedRequest {
  method: string;
  url: string;
  /** The request's headers (names in any case), to tell a CORS preflight from an OPTIONS request. */
  headers?: Record<string, unknown>;
  /** Sends the request to the service (`app.inject`). */
  send(): Promise<LightMyRequestResponse>;
  /** True when the app answered it from a route hidden from the document (`schema.hide`). */
  hidden(response: LightMyRequestResponse): boolean;
}

/**
 * Sends a request through Stoplight Prism in proxy mode with errors on (`--errors`), in-process: Prism routes it
 * to the document's operation, the "upstream" is the app itself (`app.inject`), and Prism validates the answer's
 * status, media type, headers and body against the operation. Answers the response, or throws when Prism found
 * anything (a warning too: an undeclared 4xx is only a warning to Prism), when a header is sent that the status
 * does not declare, or when a request the document has no operation for is answered with anything but 404 or 405
 * from a documented route.
 */
export async function sendChecked(
  document: object,
  request: CheckedRequest,
): Promise<LightMyRequestResponse> {
  if (isPreflight(request)) return checkPreflight(request);
  const operations = await operationsOf(document);
  let answered: { response: LightMyRequestResponse; operation: HttpOperation | undefined } | undefined;
  const forward: Forward = (_input, _baseUrl, _proxy, operation) => () => async () => {
    const response = await request.send();
    answered = { response, operation };
    return { _tag: 'Right', right: asPrismResponse(response) };
  };
  const prism = createInstance(
    {
      isProxy: true,
      upstream: new URL('http://service.test'),
      upstreamProxy: undefined,
      errors: true,
      validateRequest: false,
      validateResponse: true,
      checkSecurity: false,
      mock: { dynamic: false },
    },
    { logger: quietLogger, forward },
  );
  const result = await prism.request(asPrismRequest(request.method, request.url), operations)();
  const name = `${request.method} ${request.url}`;
  if (!answered) {
    // No operation of the document matches: the service must answer as it does for any unknown route.
    const response = await request.send();
    if (request.hidden(response)) return response;
    if (UNKNOWN_ROUTE_STATUSES.has(response.statusCode)) {
      const type = String(response.headers['content-type'] ?? '');
      // SCIM's own refusals are SCIM errors (docs/scim.md); every other path's are problem+json.
      const expected = new URL(request.url, 'http://service.test').pathname.startsWith('/scim/v2/')
        ? 'application/scim+json'
        : 'application/problem+json';
      if (!type.startsWith(expected)) {
        throw new Error(
          `${name} answered ${response.statusCode} as ${type || 'no media type'}, not ${expected}`,
        );
      }
      return response;
    }
    const reason = result._tag === 'Left' ? result.left.message : 'no operation matched';
    throw new Error(
      `${name} answered ${response.statusCode}, but the OpenAPI document has no operation for it (${reason})`,
    );
  }
  const { response, operation } = answered;
  const problems = [
    ...(result._tag === 'Left'
      ? [result.left.message]
      : result.right.validations.output.map(
          (diagnostic) =>
            `${diagnostic.path?.length ? `${diagnostic.path.join('.')}: ` : ''}${diagnostic.message}`,
        )),
    ...(operation ? undeclaredHeaders(operation, asPrismResponse(response)) : []).map(
      (header) => `header ${header} is not declared for status ${response.statusCode}`,
    ),
  ];
  if (problems.length > 0) {
    throw new Error(
      `${name} answered ${response.statusCode}, which the OpenAPI document does not declare:\n- ${problems.join('\n- ')}\n${response.body.slice(0, 500)}`,
    );
  }
  return response;
}

/** An OPTIONS request with `Origin` and `Access-Control-Request-Method`: a browser asking CORS, not an operation. */
function isPreflight(request: CheckedRequest): boolean {
  if (request.method.toUpperCase() !== 'OPTIONS') return false;
  const names = new Set(Object.keys(request.headers ?? {}).map((name) => name.toLowerCase()));
  return names.has('origin') && names.has('access-control-request-method');
}

/**
 * A CORS preflight is left out of the document (docs/api.md, "What a client can rely on"): it must be answered
 * 204 (no content) with CORS's headers only, or, where CORS is closed, as an unknown route is. A route hidden from
 * the document (the OpenID provider's) answers its own.
 */
async function checkPreflight(request: CheckedRequest): Promise<LightMyRequestResponse> {
  const response = await request.send();
  if (UNKNOWN_ROUTE_STATUSES.has(response.statusCode) || request.hidden(response)) return response;
  const problems = [
    ...(response.statusCode === 204 ? [] : [`status ${response.statusCode}, not 204`]),
    ...Object.keys(response.headers)
      .filter((name) => !PREFLIGHT_HEADERS.has(name))
      .map((name) => `header ${name}`),
  ];
  if (problems.length > 0) {
    throw new Error(
      `the CORS preflight ${request.method} ${request.url} answered with ${problems.join(', ')}: a preflight answers 204 with CORS's headers only`,
    );
  }
  return response;
}

/** The path and query an inject request goes to, as text. */
function injectedUrl(options: InjectOptions): string {
  const target = options.url ?? options.path ?? '/';
  const url =
    typeof target === 'string'
      ? new URL(target, 'http://service.test')
      : new URL(target.pathname ?? '/', 'http://service.test');
  const query =
    typeof options.query === 'string'
      ? new URLSearchParams(options.query)
      : Object.entries(options.query ?? {}).flatMap(([name, value]) =>
          (Array.isArray(value) ? value : [value]).map((item) => [name, String(item)] as const),
        );
  for (const [name, value] of query) url.searchParams.append(name, value);
  return `${url.pathname}${url.search}`;
}

/**
 * Makes every `app.inject(options)` of a test go through `sendChecked`, so that a test that sends its own headers
 * or raw body is checked like one sent through the request helper. `hidden` says whether a response to a path
 * came from a route hidden from the document. Answers the unchecked inject, for callers that check themselves.
 */
export function checkInjects(
  app: FastifyInstance,
  hidden: (response: LightMyRequestResponse, path: string) => boolean,
): (options: InjectOptions) => Promise<LightMyRequestResponse> {
  const unchecked = app.inject.bind(app);
  const send = (options: InjectOptions): Promise<LightMyRequestResponse> => unchecked(options);
  const checked = (options: InjectOptions | string): Promise<LightMyRequestResponse> => {
    const request = typeof options === 'string' ? { url: options } : options;
    const url = injectedUrl(request);
    return sendChecked(app.swagger(), {
      method: String(request.method ?? 'GET'),
      url,
      headers: request.headers,
      send: () => send(request),
      hidden: (response) => hidden(response, new URL(url, 'http://service.test').pathname),
    });
  };
  // Only the promise form is used by the tests; the callback and chain forms are not checked.
  app.inject = checked as FastifyInstance['inject'];
  return send;
}
