/*
 * What GET /console/config.json says under `signIn`: where the console signs in (docs/console.md). The service
 * writes it and the console reads it, so both take this one type: the console through the typed client
 * (client/index.ts), as the endpoint is left out of the OpenAPI document. It imports nothing, so the console's
 * build reaches it without the service's dependencies.
 */

/** Where the console signs in: an OpenID provider's issuer (its discovery document) and the console's client. */
export interface ConsoleSignIn {
  issuer: string;
  clientId: string;
  /** PUBLIC_URL/console/: registered with the provider as the console's redirect URI. */
  redirectUri: string;
  /** The scopes the console asks for (Kinde's refresh tokens need `offline`). */
  scope: string;
  /** Further parameters of its authorization requests (Kinde: `audience`, for the API's `aud`). */
  authorizationParameters: Record<string, string>;
  /** The claims of the access token that name the organization and the roles (AUTH_CLAIM_*). */
  claims: { organization: string; roles: string };
}
