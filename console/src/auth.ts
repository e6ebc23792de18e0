import * as oauth from 'oauth4webapi';
import type { ConsoleSignIn } from '../../client/index.js';
import { readToken, type TokenView } from './logic/tokens.js';

/** The state of the console's session, which decides the screen. */
export type SessionState =
  | { kind: 'redirecting' }
  | { kind: 'signed-in'; token: TokenView; person: Person }
  /** The provider refused a refresh: the rep was deactivated or removed, or the session was ended elsewhere. */
  | { kind: 'ended'; reason: string }
  | { kind: 'failed'; reason: string }
  /** The person signed out here: the console waits to be asked to sign in again. */
  | { kind: 'signed-out' };

/**
 * Who signed in, from the ID token: the email, and the organizations the person may sign in to (`org_codes`, as
 * the embedded provider and Kinde put them); undefined where the provider does not say.
 */
export interface Person {
  email: string | undefined;
  organizations: string[] | undefined;
}

interface Flow {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

// The flow must survive the round trip to the provider; tokens never leave memory.
const FLOW_KEY = 'salesreps.console.flow';
// Which organization to sign in to after a reload: the one chosen last in this tab.
const ORGANIZATION_KEY = 'salesreps.console.organization';
const RENEW_BEFORE_EXPIRY_MS = 60_000;
// Set on signing out, for the page the provider sends back to: it says so instead of signing in again at once.
const SIGNED_OUT_KEY = 'salesreps.console.signed-out';

/**
 * The console's OpenID Connect session: authorization code with PKCE (S256) through oauth4webapi, the access and
 * refresh tokens in memory only, the access token renewed by the rotating refresh token before it expires.
 */
export class ConsoleSession {
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private idToken: string | undefined;
  private person: Person = { email: undefined, organizations: undefined };
  private renewal: Promise<string> | undefined;
  private listeners = new Set<() => void>();
  state: SessionState = { kind: 'redirecting' };

  private constructor(
    private readonly settings: ConsoleSignIn,
    private readonly as: oauth.AuthorizationServer,
  ) {}

  private get client(): oauth.Client {
    return { client_id: this.settings.clientId };
  }

  private static options(issuer: string) {
    return issuer.startsWith('http:') ? { [oauth.allowInsecureRequests]: true } : {};
  }

  static async discover(settings: ConsoleSignIn): Promise<ConsoleSession> {
    const issuer = new URL(settings.issuer);
    const response = await oauth.discoveryRequest(issuer, {
      algorithm: 'oidc',
      ...ConsoleSession.options(settings.issuer),
    });
    return new ConsoleSession(settings, await oauth.processDiscoveryResponse(issuer, response));
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }

  /** Finishes a sign-in the provider sent back here, or begins one. Resolves once signed in (or failed). */
  async start(): Promise<void> {
    const url = new URL(window.location.href);
    const flowText = sessionStorage.getItem(FLOW_KEY);
    if (sessionStorage.getItem(SIGNED_OUT_KEY) && !url.searchParams.has('code')) {
      sessionStorage.removeItem(SIGNED_OUT_KEY);
      this.set({ kind: 'signed-out' });
      return;
    }
    if ((url.searchParams.has('code') || url.searchParams.has('error')) && flowText) {
      sessionStorage.removeItem(FLOW_KEY);
      await this.finish(url, JSON.parse(flowText) as Flow);
      return;
    }
    await this.signInAgain();
  }

  /** Signs in to the organization of this tab's last sign-in (after a reload, or when access ended). */
  signInAgain(): Promise<void> {
    return this.signIn({ organization: sessionStorage.getItem(ORGANIZATION_KEY) ?? undefined });
  }

  /**
   * Leaves for the provider's sign-in page. `organization` (an identity organization id) chooses the organization
   * directly; `choose` asks the provider to offer the person's organizations again (prompt=consent), where its
   * session would otherwise sign in to the last one.
   */
  async signIn(
    options: { organization?: string | undefined; choose?: boolean; returnTo?: string } = {},
  ): Promise<void> {
    const { organization, choose = false, returnTo = currentPath() } = options;
    const flow: Flow = {
      verifier: oauth.generateRandomCodeVerifier(),
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      returnTo,
    };
    this.set({ kind: 'redirecting' });
    sessionStorage.setItem(FLOW_KEY, JSON.stringify(flow));
    if (organization) sessionStorage.setItem(ORGANIZATION_KEY, organization);
    else sessionStorage.removeItem(ORGANIZATION_KEY);
    const target = new URL(this.as.authorization_endpoint as string);
    target.search = new URLSearchParams({
      client_id: this.settings.clientId,
      redirect_uri: this.settings.redirectUri,
      response_type: 'code',
      ...this.settings.authorizationParameters,
      scope: this.settings.scope,
      code_challenge: await oauth.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
      ...(organization ? { org_code: organization } : {}),
      ...(choose ? { prompt: 'consent' } : {}),
    }).toString();
    window.location.replace(target.toString());
  }

  private async finish(url: URL, flow: Flow): Promise<void> {
    try {
      const parameters = oauth.validateAuthResponse(this.as, this.client, url, flow.state);
      const response = await oauth.authorizationCodeGrantRequest(
        this.as,
        this.client,
        oauth.None(),
        parameters,
        this.settings.redirectUri,
        flow.verifier,
        ConsoleSession.options(this.settings.issuer),
      );
      const tokens = await oauth.processAuthorizationCodeResponse(this.as, this.client, response, {
        expectedNonce: flow.nonce,
      });
      this.keep(tokens);
    } catch (error) {
      this.set({ kind: 'failed', reason: describe(error) });
    }
    // Only a path of the console: what session storage holds is not trusted to name another place.
    window.history.replaceState(
      null,
      '',
      flow.returnTo.startsWith('/console/') ? flow.returnTo : '/console/',
    );
  }

  private keep(tokens: oauth.TokenEndpointResponse): void {
    this.accessToken = tokens.access_token;
    this.refreshToken = tokens.refresh_token ?? this.refreshToken;
    this.idToken = tokens.id_token ?? this.idToken;
    const token = readToken(tokens.access_token, this.settings.claims);
    const claims = tokens.id_token ? oauth.getValidatedIdTokenClaims(tokens) : undefined;
    if (claims) this.person = personOf(claims);
    if (token.organization) sessionStorage.setItem(ORGANIZATION_KEY, token.organization);
    this.set({ kind: 'signed-in', token, person: this.person });
  }

  /** The access token for the next API request, renewed first when it is about to expire. */
  async token(): Promise<string> {
    if (this.state.kind !== 'signed-in' || !this.accessToken) throw new Error('Not signed in.');
    if (this.state.token.expiresAt - Date.now() > RENEW_BEFORE_EXPIRY_MS) return this.accessToken;
    return this.renew();
  }

  /**
   * Renews the access token now (one renewal at a time). A refresh the provider refuses ends the session; one that
   * fails otherwise (the network, a 5xx) keeps the tokens, so that the next request tries again.
   */
  renew(): Promise<string> {
    this.renewal ??= this.refresh().finally(() => {
      this.renewal = undefined;
    });
    return this.renewal;
  }

  private async refresh(): Promise<string> {
    if (!this.refreshToken) {
      this.end('Your session has expired.');
      throw new Error('No refresh token.');
    }
    try {
      const response = await oauth.refreshTokenGrantRequest(
        this.as,
        this.client,
        oauth.None(),
        this.refreshToken,
        ConsoleSession.options(this.settings.issuer),
      );
      const tokens = await oauth.processRefreshTokenResponse(this.as, this.client, response);
      this.keep(tokens);
      return tokens.access_token;
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') {
        this.end(
          'Your access to this organization has ended: an admin deactivated or removed you, or the session ended.',
        );
      }
      throw error;
    }
  }

  /** The API refused the token (401/403 that a renewal does not cure): show why instead of a blank screen. */
  end(reason: string): void {
    this.accessToken = undefined;
    this.refreshToken = undefined;
    this.set({ kind: 'ended', reason });
  }

  /**
   * Revokes the refresh token, then ends the provider's session too (RP-initiated logout) and comes back to the
   * console. A provider without an end-session endpoint keeps its own session: the console says it is signed out
   * rather than signing in again at once.
   */
  async signOut(): Promise<void> {
    const { idToken, refreshToken } = this;
    this.accessToken = undefined;
    this.refreshToken = undefined;
    this.set({ kind: 'redirecting' });
    sessionStorage.removeItem(ORGANIZATION_KEY);
    sessionStorage.setItem(SIGNED_OUT_KEY, '1');
    if (refreshToken && this.as.revocation_endpoint) {
      await oauth
        .revocationRequest(
          this.as,
          this.client,
          oauth.None(),
          refreshToken,
          ConsoleSession.options(this.settings.issuer),
        )
        .catch(() => undefined);
    }
    const endpoint = this.as.end_session_endpoint;
    if (!endpoint) {
      sessionStorage.removeItem(SIGNED_OUT_KEY);
      this.set({ kind: 'signed-out' });
      return;
    }
    const target = new URL(endpoint);
    target.search = new URLSearchParams({
      client_id: this.settings.clientId,
      post_logout_redirect_uri: this.settings.redirectUri,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).toString();
    window.location.assign(target.toString());
  }
}

/** Where to come back to after signing in: this page, without what a provider's answer added to its URL. */
function currentPath(): string {
  const url = new URL(window.location.href);
  for (const name of ['code', 'state', 'iss', 'error', 'error_description']) url.searchParams.delete(name);
  return `${url.pathname}${url.search}`;
}

function personOf(claims: oauth.IDToken): Person {
  const codes = claims.org_codes;
  return {
    email: typeof claims.email === 'string' ? claims.email : undefined,
    organizations:
      Array.isArray(codes) && codes.every((code) => typeof code === 'string')
        ? (codes as string[])
        : undefined,
  };
}

function describe(error: unknown): string {
  if (error instanceof oauth.AuthorizationResponseError) return error.error_description ?? error.error;
  if (error instanceof oauth.ResponseBodyError) return error.error_description ?? error.error;
  return error instanceof Error ? error.message : String(error);
}
