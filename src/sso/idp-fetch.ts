// Requests to an organization's identity provider: through the webhooks' SSRF guard, bounded in size and time.
import http from 'node:http';
import https from 'node:https';
import type { CustomFetchOptions } from 'openid-client';
import { guardedLookup, urlProblem } from '../webhooks/address-guard.js';

/** The largest answer read from an IdP (discovery, keys, token): larger ones are cut off and refused. */
const IDP_RESPONSE_LIMIT_BYTES = 256 * 1024;
/** How long one request to an IdP may take, from the connection to the last byte. */
export const IDP_TIMEOUT_MS = 5000;

/** A request to an IdP refused before it was sent, or cut off: its message names why, without the body. */
class IdpRequestError extends Error {}

type FetchInit = CustomFetchOptions;

/** A request body as bytes; openid-client sends forms (URLSearchParams) and JSON text only. */
function bodyBytes(body: FetchInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof URLSearchParams) return Buffer.from(String(body));
  if (body instanceof ArrayBuffer || body instanceof Uint8Array) return Buffer.from(body as Uint8Array);
  throw new IdpRequestError('a streamed request body is not sent to an identity provider');
}

/** Whether an IdP may be reached at this URL: https on the internet, unless private networks are allowed. */
export function idpUrlProblem(url: string, allowPrivateNetworks: boolean): string | undefined {
  return urlProblem(url, allowPrivateNetworks);
}

/**
 * A `fetch` for openid-client (its `customFetch`): one request, no redirect followed, to the address the SSRF
 * guard checked (no second lookup a rebinding DNS could answer differently), at most IDP_RESPONSE_LIMIT_BYTES
 * within IDP_TIMEOUT_MS.
 */
export function guardedIdpFetch(allowPrivateNetworks: boolean) {
  const lookup = guardedLookup(allowPrivateNetworks);
  return async (input: string, init: FetchInit): Promise<Response> => {
    const url = new URL(input);
    const problem = idpUrlProblem(url.href, allowPrivateNetworks);
    if (problem) throw new IdpRequestError(`${url.origin} ${problem}`);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = bodyBytes(init.body);
    return new Promise<Response>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: init.method ?? 'GET',
        headers: body === undefined ? headers : { ...headers, 'content-length': body.length },
        lookup,
      });
      const fail = (error: Error) => {
        clearTimeout(timer);
        request.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new IdpRequestError(`${url.origin} did not answer within ${IDP_TIMEOUT_MS} ms`)),
        IDP_TIMEOUT_MS,
      );
      init.signal?.addEventListener('abort', () => fail(new IdpRequestError(`${url.origin}: aborted`)), {
        once: true,
      });
      request.on('error', (error) => fail(new IdpRequestError(`${url.origin}: ${error.message}`)));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > IDP_RESPONSE_LIMIT_BYTES) {
            fail(new IdpRequestError(`${url.origin} answered more than ${IDP_RESPONSE_LIMIT_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', (error) => fail(new IdpRequestError(`${url.origin}: ${error.message}`)));
        response.on('end', () => {
          clearTimeout(timer);
          const status = response.statusCode ?? 502;
          const answerHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value === undefined) continue;
            for (const one of Array.isArray(value) ? value : [value]) answerHeaders.append(name, one);
          }
          const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers: answerHeaders }));
        });
      });
      request.end(body);
    });
  };
}
