// A SAML connection set by metadata URL reads its IdP's metadata again: periodically, and when a response is signed
// by a key the connection does not know (an IdP's certificate rollover), at most once per bound.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.js';
import { scrub } from '../../kernel/scrub.js';
import { fetchIdpMetadata, parseIdpMetadata, type SamlIdp, SamlMetadataError } from './metadata.js';
import { claimDueRefreshes, claimFailureRefresh, connectionMetadata, storeRefreshedIdp } from './queries.js';
import { parseXml, SAML_NAMESPACES } from './xml.js';

/** How old a connection's metadata may get before it is fetched again. */
const METADATA_MAX_AGE_MS = 6 * 60 * 60 * 1000;
/** How often the periodic refresh looks for connections whose metadata is older than METADATA_MAX_AGE_MS. */
const METADATA_REFRESH_INTERVAL_MS = 10 * 60 * 1000;
/** At most one refetch per connection after a signature by an unknown key within this time, on all replicas. */
const UNKNOWN_KEY_REFRESH_BOUND_MS = 5 * 60 * 1000;
/** Connections refreshed per pass: each is one request to an IdP. */
const REFRESH_BATCH_SIZE = 100;

type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/**
 * Fetches a connection's metadata from its URL (the SSRF guard of fetchIdpMetadata) and keeps the IdP read there.
 * Metadata of another entity is not taken: a new IdP is the admin's to set (and forgets the remembered subjects).
 * Answers the IdP kept, or undefined when nothing changed.
 */
async function refreshMetadata(
  db: Db,
  connectionId: string,
  options: { allowPrivateNetworks: boolean; log: Log },
): Promise<SamlIdp | undefined> {
  const connection = await connectionMetadata(db, connectionId);
  if (!connection?.saml_metadata_url || !connection.saml_idp) return undefined;
  const metadataUrl = connection.saml_metadata_url;
  let idp: SamlIdp;
  try {
    idp = parseIdpMetadata(
      await fetchIdpMetadata(metadataUrl, { allowPrivateNetworks: options.allowPrivateNetworks }),
    );
  } catch (error) {
    if (!(error instanceof SamlMetadataError)) throw error;
    options.log.warn(
      { event: 'sso.metadata-refresh-failed', connectionId, reason: error.message },
      "the IdP's SAML metadata could not be read again; the certificates known are kept",
    );
    return undefined;
  }
  if (idp.entityId !== connection.saml_idp.entityId) {
    options.log.warn(
      { event: 'sso.metadata-refresh-failed', connectionId, reason: 'another entity ID' },
      "the IdP's SAML metadata now names another entity; the connection is kept as set",
    );
    return undefined;
  }
  if (!(await storeRefreshedIdp(db, { id: connectionId, metadataUrl, idpJson: JSON.stringify(idp) }))) {
    return undefined;
  }
  const known = new Set(connection.saml_idp.signingCertificates);
  const added = idp.signingCertificates.filter((certificate) => !known.has(certificate)).length;
  options.log.info(
    { event: 'sso.metadata-refreshed', connectionId, certificates: idp.signingCertificates.length, added },
    "the IdP's SAML metadata was read again",
  );
  return idp;
}

/** The certificates a SAML response's signatures name in their KeyInfo (base64 DER, whitespace removed). */
function certificatesNamed(samlResponse: string): string[] {
  let response: ReturnType<typeof parseXml>;
  try {
    response = parseXml(Buffer.from(samlResponse, 'base64').toString('utf8'), () => new Error('malformed'));
  } catch {
    return [];
  }
  return Array.from(response.getElementsByTagNameNS(SAML_NAMESPACES.xmldsig, 'X509Certificate')).map(
    (certificate) => (certificate.textContent ?? '').replace(/\s+/g, ''),
  );
}

/**
 * After a response's signature was refused: when the response names no certificate, or one the connection does not
 * know, and the connection has a metadata URL, the metadata is fetched again — at most once per connection within
 * UNKNOWN_KEY_REFRESH_BOUND_MS. Answers the IdP read when it brought a certificate not known before.
 */
export async function refreshAfterUnknownKey(
  db: Db,
  connection: { id: string; idp: SamlIdp },
  samlResponse: string,
  options: { allowPrivateNetworks: boolean; log: Log },
): Promise<SamlIdp | undefined> {
  const known = new Set(connection.idp.signingCertificates);
  const named = certificatesNamed(samlResponse);
  if (named.length > 0 && named.every((certificate) => known.has(certificate))) return undefined;
  const notSince = new Date(Date.now() - UNKNOWN_KEY_REFRESH_BOUND_MS);
  if (!(await claimFailureRefresh(db, connection.id, notSince))) return undefined;
  const idp = await refreshMetadata(db, connection.id, options);
  return idp?.signingCertificates.some((certificate) => !known.has(certificate)) ? idp : undefined;
}

/** Refreshes the metadata of every connection whose metadata is older than METADATA_MAX_AGE_MS; answers how many. */
export async function refreshDueMetadata(
  db: Db,
  options: { allowPrivateNetworks: boolean; log: Log; now?: Date },
): Promise<number> {
  const now = options.now ?? new Date();
  const due = await claimDueRefreshes(db, new Date(now.getTime() - METADATA_MAX_AGE_MS), REFRESH_BATCH_SIZE);
  for (const connectionId of due) await refreshMetadata(db, connectionId, options);
  return due.length;
}

/** The periodic refresh, off the request path: a pass at start and every METADATA_REFRESH_INTERVAL_MS. */
export function startMetadataRefresh(
  db: Db,
  options: { allowPrivateNetworks: boolean; log: Log },
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = () => {
    if (stopped || running) return;
    running = refreshDueMetadata(db, options)
      .then(() => undefined)
      .catch((error: unknown) =>
        options.log.error(
          { error: scrub(String(error)) },
          'refreshing SAML metadata failed; retried next time',
        ),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(pass, METADATA_REFRESH_INTERVAL_MS);
  timer.unref();
  pass();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
