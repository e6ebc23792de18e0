// Which browser origins are those of the registered clients' redirect URIs, for the API's CORS.
import type { Db } from '../db/database.js';
import { registeredRedirectUris } from './queries.js';

/** How long the origins read are used before they are read again: a client added since is admitted after it. */
const CLIENT_ORIGINS_REFRESH_MS = 60_000;

/**
 * Whether an origin is the origin of a redirect URI of a client of `salesreps client add`: such a browser client
 * signs in there and calls the API from there (docs/signin.md, "Relying parties"). The origins are read at most
 * once a refresh period, whatever origins requests claim, so that a request cannot make the service read the
 * database.
 */
export function clientOrigins(db: Db): (origin: string) => Promise<boolean> {
  let read: { origins: Promise<Set<string>>; at: number } | undefined;
  return async (origin) => {
    const now = Date.now();
    if (!read || now - read.at >= CLIENT_ORIGINS_REFRESH_MS) {
      const origins = registeredRedirectUris(db).then(
        (uris) => new Set(uris.map((uri) => new URL(uri).origin)),
      );
      read = { origins, at: now };
      // A failed read is not kept: the next request reads again.
      origins.catch(() => {
        if (read?.origins === origins) read = undefined;
      });
    }
    return (await read.origins).has(origin);
  };
}
