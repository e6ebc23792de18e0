import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { default as Provider } from 'oidc-provider';
import { Browser, PUBLIC_URL } from '../signin/support.js';

const SSO_CALLBACK = `${PUBLIC_URL}/signin/sso/callback`;

/** A person at the organization's IdP: its subject and what the IdP says of its email. */
interface IdpPerson {
  email: string;
  emailVerified: boolean;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  provider: Provider;
  /** The IdP's people by subject; a test adds its own. */
  people: Map<string, IdpPerson>;
  /** Every request the IdP received (method and path), to see what the service asked of it. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * The organization's own identity provider, as Okta would be: a second, independent oidc-provider with its own keys
 * on its own port, one confidential client (`client_secret_basic`, or `client_secret_post` when asked), and its
 * development login form (any subject, any password). Consent is given without a page. The client's redirect URI
 * is the in-process service's, or `redirectUri` for a service listening on a port.
 */
export async function startTestIdp(
  options: { authMethod?: 'client_secret_basic' | 'client_secret_post'; redirectUri?: string } = {},
): Promise<TestIdp> {
  const { default: ProviderClass } = await import('oidc-provider');
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-idp-1', alg: 'RS256', use: 'sig' };
  const people = new Map<string, IdpPerson>();
  const requests: string[] = [];
  const clientId = 'salesreps-at-acme';
  const clientSecret = 'a-long-random-client-secret-of-the-test-idp';
  const authMethod = options.authMethod ?? 'client_secret_basic';
  const provider = new ProviderClass(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri ?? SSO_CALLBACK],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: authMethod,
      },
    ],
    clientAuthMethods: [authMethod],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ['test-idp-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    scopes: ['openid', 'email'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    async findAccount(_ctx, id) {
      const person = people.get(id);
      if (!person) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, email: person.email, email_verified: person.emailVerified }),
      };
    },
    async loadExistingGrant(ctx) {
      const accountId = ctx.oidc.session?.accountId;
      const clientIdAsked = ctx.oidc.client?.clientId;
      if (!accountId || !clientIdAsked) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId: clientIdAsked });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  server.on('request', (request, response) => {
    requests.push(`${request.method} ${request.url?.split('?')[0]}`);
    callback(request, response);
  });
  return {
    issuer,
    clientId,
    clientSecret,
    provider,
    people,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A browser that visits both the service (in-process, through the sign-in tests' Browser) and the IdP (plain HTTP:
 * fetch with manual redirects and a cookie jar of its own), following redirects and the page that goes on to the IdP
 * after a posted form, until it reaches a page or leaves both.
 */
export class TwoSiteBrowser {
  readonly service: Browser;
  private readonly idpCookies = new Map<string, string>();

  private readonly idps: { issuer: string }[];

  constructor(app: ConstructorParameters<typeof Browser>[0], ...idps: { issuer: string }[]) {
    this.service = new Browser(app);
    this.idps = idps;
  }

  private atIdp(url: string): boolean {
    return this.idps.some((idp) => url.startsWith(idp.issuer));
  }

  private async idpRequest(method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.idpCookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name) this.idpCookies.set(name.trim(), value.join('='));
    }
    return {
      statusCode: response.status,
      location: response.headers.get('location') ?? undefined,
      body: await response.text(),
    };
  }

  /** One request to whichever site the URL names. */
  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    if (this.atIdp(url)) return this.idpRequest(method, url, form);
    const response = await this.service.request(method, url, form);
    const location = response.headers.location;
    return {
      statusCode: response.statusCode,
      location: typeof location === 'string' ? new URL(location, PUBLIC_URL).href : undefined,
      body: response.body,
    };
  }

  /** Requests, then follows redirects and refresh pages across both sites; `leftTo` is where it left both. */
  async follow(method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    let current = url;
    let response = await this.request(method, current, form);
    for (let hop = 0; hop < 20; hop++) {
      const refresh = response.body.match(/http-equiv="refresh" content="0;url=([^"]+)"/)?.[1];
      const next =
        response.statusCode >= 300 && response.statusCode < 400 && response.location
          ? new URL(response.location, current).href
          : refresh?.replaceAll('&amp;', '&');
      if (!next) break;
      if (!next.startsWith(PUBLIC_URL) && !this.atIdp(next)) {
        return { ...response, url: current, leftTo: next };
      }
      current = next;
      response = await this.request('GET', current);
    }
    return { ...response, url: current, leftTo: undefined };
  }

  /** At the IdP's login form (its development form): signs in as `subject`. */
  async signInAtIdp(loginPage: { url: string; body: string }, subject: string) {
    const action = loginPage.body.match(/<form[^>]*action="([^"]+)"/)?.[1];
    if (!action) throw new Error(`no login form at the IdP: ${loginPage.body.slice(0, 200)}`);
    return this.follow('POST', new URL(action, loginPage.url).href, {
      prompt: 'login',
      login: subject,
      password: 'anything',
    });
  }
}

/** What a hostile IdP puts wrong in the ID token it answers with. */
export type IdTokenDefect = 'none' | 'issuer' | 'audience' | 'nonce' | 'expired' | 'signature';

export interface HostileIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The defect of the next ID token, and the subject and email it names. */
  next: { defect: IdTokenDefect; subject: string; email: string };
  close(): Promise<void>;
}

/**
 * An identity provider that signs in whoever comes and answers with an ID token that has one defect chosen by the
 * test: the wrong issuer, audience or nonce, an expired one, or one signed by a key not in its JWKS. Its discovery,
 * keys, authorization and token endpoints are otherwise those of any OpenID provider.
 */
export async function startHostileIdp(): Promise<HostileIdp> {
  const { SignJWT } = await import('jose');
  const signing = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(signing.publicKey)), kid: 'hostile-1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { nonce: string }>();
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp: HostileIdp = {
    issuer,
    clientId: 'hostile-client',
    clientSecret: 'hostile-secret-of-the-test',
    next: { defect: 'none', subject: 'hostile-subject', email: 'nobody@hostile.example' },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const json = (response: http.ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  server.on('request', async (request, response) => {
    const url = new URL(request.url ?? '/', issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(response, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') return json(response, 200, { keys: [publicJwk] });
    if (url.pathname === '/authorize') {
      const code = `code-${Math.random().toString(36).slice(2)}`;
      codes.set(code, { nonce: url.searchParams.get('nonce') ?? '' });
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(303, { location: back.href });
      return response.end();
    }
    if (url.pathname === '/token' && request.method === 'POST') {
      let body = '';
      for await (const chunk of request) body += chunk;
      const code = new URLSearchParams(body).get('code') ?? '';
      const issued = codes.get(code);
      codes.delete(code);
      if (!issued) return json(response, 400, { error: 'invalid_grant' });
      const { defect, subject, email } = idp.next;
      const now = Math.floor(Date.now() / 1000);
      const idToken = await new SignJWT({
        nonce: defect === 'nonce' ? 'another-nonce' : issued.nonce,
        email,
        email_verified: true,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'hostile-1' })
        .setIssuer(defect === 'issuer' ? 'https://another-issuer.example' : issuer)
        .setAudience(defect === 'audience' ? 'another-client' : idp.clientId)
        .setSubject(subject)
        .setIssuedAt(defect === 'expired' ? now - 7200 : now)
        .setExpirationTime(defect === 'expired' ? now - 3600 : now + 300)
        .sign(defect === 'signature' ? stranger.privateKey : signing.privateKey);
      return json(response, 200, {
        access_token: 'opaque',
        token_type: 'Bearer',
        expires_in: 300,
        id_token: idToken,
      });
    }
    json(response, 404, { error: 'not_found' });
  });
  return idp;
}
