/** What the console reads from an access token: for whom and which organization it is, and the roles there. */
export interface TokenView {
  organization: string;
  roles: string[];
  expiresAt: number;
}

/**
 * Reads the claims of a JWT without checking its signature: the API checks every token; the console only needs to
 * know which pages to show (docs/console.md).
 */
export function readToken(jwt: string, claims: { organization: string; roles: string }): TokenView {
  const payload = jwt.split('.')[1];
  if (!payload) throw new Error('The access token is not a JWT.');
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const json = new TextDecoder().decode(
    Uint8Array.from(atob(base64), (character) => character.charCodeAt(0)),
  );
  const body = JSON.parse(json) as Record<string, unknown>;
  const roles = body[claims.roles];
  const organization = body[claims.organization];
  return {
    organization: typeof organization === 'string' ? organization : '',
    roles: Array.isArray(roles) ? roles.flatMap(roleName) : [],
    expiresAt: typeof body.exp === 'number' ? body.exp * 1000 : Date.now(),
  };
}

/** A role as the API reads it: a name, or (Kinde's form) an object with a `key`. */
function roleName(role: unknown): string[] {
  if (typeof role === 'string') return [role];
  if (typeof role === 'object' && role !== null && typeof (role as { key?: unknown }).key === 'string') {
    return [(role as { key: string }).key];
  }
  return [];
}
