// The database's tables as Kysely types them, and the row types the features read.
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Table types: what the database holds. API types live in each feature's schemas. */
interface OrganizationTable {
  id: string;
  name: string;
  identity_organization_id: string;
  created_at: Generated<Date>;
}

/**
 * A person who is a rep of one organization or more: only what identifies it, shared by all of them (the email,
 * unique in any letter case, and the identity provider user). Names and phone belong to each assignment.
 */
interface SalesRepTable {
  id: string;
  email: string;
  identity_provider_user_id: string;
  created_at: Generated<Date>;
}

/**
 * A rep's assignment to one organization, with what that organization says of the person: its names, phone and
 * spelling of the email (no other organization reads or changes them, docs/api.md). A tenant's list is sorted
 * and paged from this table alone.
 */
interface OrganizationSalesRepTable {
  id: string;
  organization_id: string;
  sales_rep_id: string;
  rep_number: string;
  active: Generated<boolean>;
  roles: string[];
  first_name: string;
  last_name: string;
  email: string;
  phone_number: string | null;
  /** The names' keys of the search (src/kernel/search.ts), written with the names. */
  first_name_search: string;
  last_name_search: string;
  /** The organization's directory's own id of the person (SCIM `externalId`); null when none was given. */
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  /** Added without its invitation (the bulk add's `sendInvitations=false`) and not invited since. */
  invitation_pending: Generated<boolean>;
  /** When the assignment last changed (set by a trigger on every update); null until its first change. */
  updated_at: ColumnType<Date | null, never, never>;
}

export type EffectStatus = 'pending' | 'done' | 'dead';

/** The outbox: side effects recorded in the transaction of the change that implies them. */
interface EffectTable {
  id: Generated<string>;
  organization_id: string;
  /**
   * Effects of one key and channel are carried out one at a time, in the order recorded: a rep's id for its
   * effects, `account:<id>` for a person's sign-in mails, `webhook:<subscription>:<target>` for event deliveries.
   */
  ordering_key: string;
  /** What the effect calls (the kind's prefix: identity, email, sync, webhook); each channel keeps its own order. */
  channel: string;
  /** The rep the effect is about; null for one about no rep (a sign-in mail, an event delivery). */
  sales_rep_id: string | null;
  kind: string;
  payload: ColumnType<unknown, string, string>;
  status: Generated<EffectStatus>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  last_error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
  /** Until when a worker holds the effect; a lease that ran out (a worker that died) may be claimed again. */
  lease_until: Date | null;
  lease_token: string | null;
  /** How a done effect ended, e.g. "skipped: superseded by a later change". */
  outcome: string | null;
}

/** The local identity provider's accounts (IDP=local); the id is the rep's identity_provider_user_id. */
interface IdpAccountTable {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  created_at: Generated<Date>;
}

/** The local identity provider's organization memberships, with the role keys. */
interface IdpMembershipTable {
  account_id: string;
  identity_organization_id: string;
  roles: string[];
  created_at: Generated<Date>;
}

/** A jsonb column: written as JSON text, read back parsed. */
type JsonColumn<T> = ColumnType<T, string, string>;

interface CustomerAddressJson {
  label?: string;
  line1: string;
  line2?: string;
  city?: string;
  region?: string;
  postalCode?: string;
  country?: string;
}

interface CustomerContactJson {
  name: string;
  title?: string;
  email?: string;
  phone?: string;
}

/**
 * A customer (buyer account) of an organization. `rep_number` names the rep who serves it; `company_name_search`
 * is the company name lower-cased by the service, for the case-insensitive prefix search.
 */
interface CustomerTable {
  id: string;
  organization_id: string;
  customer_number: string;
  company_name: string;
  company_name_search: string;
  company_email: string | null;
  company_phone: string | null;
  pricing: string | null;
  terms: string | null;
  active: boolean;
  rep_number: string | null;
  external_id: string | null;
  addresses: JsonColumn<CustomerAddressJson[]>;
  contacts: JsonColumn<CustomerContactJson[]>;
  customer_attributes: JsonColumn<Record<string, string>>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/**
 * An organization's number of assignments and a version that grows with every change to them; kept by triggers
 * in the transaction of each change (migration 0004). A missing row means no assignment yet.
 */
interface OrganizationAssignmentCountTable {
  organization_id: string;
  assignment_count: number;
  version: ColumnType<string, string | number, string | number>;
}

export type ActorType = 'user' | 'cli' | 'system' | 'scim';

/** The audit log (docs/events.md): immutable rows, one per change, written in the transaction of the change. */
interface EventTable {
  id: string;
  /** Orders the events of one instant (all events of a transaction share their occurred_at). */
  seq: ColumnType<string, never, never>;
  organization_id: string;
  occurred_at: ColumnType<Date, never, never>;
  action: string;
  actor_type: ActorType;
  actor_id: string;
  targets: JsonColumn<{ type: string; id: string }[]>;
  /** The targets' ids, for the targetId filter (GIN index). */
  target_ids: string[];
  request_id: string | null;
  changes: JsonColumn<Record<string, { from: unknown; to: unknown }>>;
}

/** An organization's event webhook (docs/events.md): where events go, and the secrets that sign them. */
export interface WebhookSubscriptionTable {
  id: string;
  organization_id: string;
  url: string;
  /** The actions sent; null: every action. */
  event_types: string[] | null;
  /** `whsec_` + base64 of 32 random bytes; signs every delivery. */
  secret: string;
  /** The secret before the last rotation, which also signs until `previous_secret_until`. */
  previous_secret: string | null;
  previous_secret_until: Date | null;
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  /** When the deliveries started failing (reset by a success). */
  failing_since: Date | null;
  created_at: Generated<Date>;
}

/** One delivery attempt of an event to a subscription. */
export interface WebhookDeliveryTable {
  id: Generated<string>;
  subscription_id: string;
  event_id: string;
  attempted_at: Generated<Date>;
  status_code: number | null;
  outcome: 'delivered' | 'failed' | 'timed-out' | 'refused' | 'gone';
  error: string | null;
  latency_ms: number;
}

/** A local account's password (scrypt, src/signin/passwords.ts); absent until the person sets one. */
interface SigninCredentialTable {
  account_id: string;
  password_hash: string;
  updated_at: Generated<Date>;
}

/** A single-use invitation or password reset link; only the SHA-256 of its token is kept. */
interface SigninLinkTable {
  id: string;
  token_hash: string;
  account_id: string;
  identity_organization_id: string | null;
  purpose: 'invitation' | 'reset';
  expires_at: Date;
  used_at: Date | null;
  created_at: Generated<Date>;
}

/** Failed sign-ins of one email address or one client address, and until when the next attempt waits. */
interface SigninThrottleTable {
  key: string;
  failures: number;
  first_failure_at: Date;
  blocked_until: Date;
}

/** When a person last signed in to an organization through the embedded sign-in. */
interface SigninLastTable {
  account_id: string;
  identity_organization_id: string;
  signed_in_at: Date;
}

/** The organization an OpenID grant (and so every token issued under it) is for. */
interface SigninGrantTable {
  grant_id: string;
  account_id: string;
  identity_organization_id: string;
  expires_at: Date;
}

/** A relying party registered with `salesreps client add`: a public client using PKCE. */
interface SigninClientTable {
  id: string;
  redirect_uris: string[];
  created_at: Generated<Date>;
}

/** The embedded provider's ID-token signing keys, one per algorithm, sealed under the issuer key. */
interface SigninSigningKeyTable {
  alg: string;
  sealed_jwk: string;
  created_at: Generated<Date>;
}

/** The DPoP proofs accepted while fresh: the key is the SHA-256 of the proof key's thumbprint and the jti. */
interface DpopProofTable {
  key: string;
  expires_at: Date;
}

/** The OpenID provider's own records (sessions, interactions, codes, tokens, grants), keyed by model and id. */
interface OidcPayloadTable {
  model: string;
  id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

/** A SCIM token of an organization's directory (src/scim/); only the SHA-256 of its secret is kept. */
interface ScimTokenTable {
  id: string;
  organization_id: string;
  description: string | null;
  token_hash: string;
  created_at: Generated<Date>;
  /** The last request made with the token and its outcome (scim/); null until the first. */
  last_used_at: Date | null;
  last_method: string | null;
  last_path: string | null;
  last_status: number | null;
  last_scim_type: string | null;
  last_detail: string | null;
}

/** SAML IdP as parsed from its metadata (src/sso/saml/): what a `saml` connection keeps. */
interface SamlIdpJson {
  entityId: string;
  ssoUrl: string;
  signingCertificates: string[];
}

/**
 * An organization's one enterprise connection (docs/sso.md): OpenID Connect (issuer, client id, the client secret
 * encrypted by src/sso/secret-box.ts) or SAML (the IdP parsed from its metadata).
 */
export interface SsoConnectionTable {
  id: string;
  organization_id: string;
  protocol: 'oidc' | 'saml';
  issuer: string | null;
  client_id: string | null;
  /** AES-256-GCM ciphertext with its key id; the key is never in the database. */
  client_secret_encrypted: string | null;
  saml_idp: ColumnType<SamlIdpJson | null, string | null, string | null>;
  /** Whether the organization's people may still sign in with a password. */
  password_sign_in: boolean;
  /** SAML: where the IdP publishes its metadata, read again for its certificates; null when given as XML. */
  saml_metadata_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** SAML: when the metadata was last fetched from `saml_metadata_url`. */
  saml_metadata_fetched_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** SAML: when a signature by a key not yet seen last made the metadata be fetched (at most once per bound). */
  saml_metadata_failure_refresh_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** An email domain a connection serves; a domain is served by one organization only. */
interface SsoDomainTable {
  domain: string;
  connection_id: string;
}

/** The IdP's subject of a person, remembered per connection at its first sign-in through it. */
interface SsoSubjectTable {
  connection_id: string;
  subject: string;
  account_id: string;
  created_at: Generated<Date>;
}

/** A sign-in at an IdP under way: what its answer is checked against, used once. */
interface SsoSignInTable {
  /** SHA-256 of the `state` sent to the IdP. */
  state_hash: string;
  connection_id: string;
  /** The embedded provider's interaction the sign-in ends. */
  interaction_uid: string;
  code_verifier: string;
  nonce: string;
  expires_at: Date;
}

/**
 * A single-use link an Admin gives the organization's IT admin to set up its connection without an account: only the
 * token's SHA-256 is kept. Used once a connection is saved through it; a newer link voids it.
 */
interface SsoSetupLinkTable {
  id: string;
  organization_id: string;
  token_hash: string;
  /** The connection it sets: the organization's, or an id reserved for a new one (its SAML addresses). */
  connection_id: string;
  created_at: Generated<Date>;
  expires_at: Date;
  used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  voided_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** A test sign-in at a connection's IdP under way (no interaction, no session): used once, then shown. */
interface SsoTestSignInTable {
  /** SHA-256 of the OIDC `state` or of the SAML RelayState. */
  state_hash: string;
  connection_id: string;
  /** OIDC: the PKCE verifier; SAML: empty. */
  code_verifier: string;
  /** OIDC: the nonce; SAML: the AuthnRequest's id. */
  nonce: string;
  expires_at: Date;
}

/** A SAML authentication request this service sent for a connection, until answered or expired (src/sso/saml/). */
interface SamlRequestTable {
  id: string;
  connection_id: string;
  expires_at: Date;
  created_at: Generated<Date>;
}

/** An assertion id a connection's IdP already signed someone in with, kept until the assertion has expired. */
interface SamlAssertionTable {
  connection_id: string;
  assertion_id: string;
  expires_at: Date;
}

export interface Tables {
  organization: OrganizationTable;
  sales_rep: SalesRepTable;
  organization_sales_rep: OrganizationSalesRepTable;
  organization_assignment_count: OrganizationAssignmentCountTable;
  effect: EffectTable;
  idp_account: IdpAccountTable;
  idp_membership: IdpMembershipTable;
  customer: CustomerTable;
  event: EventTable;
  webhook_subscription: WebhookSubscriptionTable;
  webhook_delivery: WebhookDeliveryTable;
  signin_credential: SigninCredentialTable;
  signin_link: SigninLinkTable;
  signin_throttle: SigninThrottleTable;
  signin_grant: SigninGrantTable;
  signin_last: SigninLastTable;
  signin_client: SigninClientTable;
  signin_signing_key: SigninSigningKeyTable;
  dpop_proof: DpopProofTable;
  oidc_payload: OidcPayloadTable;
  scim_token: ScimTokenTable;
  sso_connection: SsoConnectionTable;
  sso_domain: SsoDomainTable;
  sso_subject: SsoSubjectTable;
  sso_sign_in: SsoSignInTable;
  sso_setup_link: SsoSetupLinkTable;
  sso_test_sign_in: SsoTestSignInTable;
  saml_request: SamlRequestTable;
  saml_assertion: SamlAssertionTable;
}

export type Organization = Selectable<OrganizationTable>;
export type SalesRep = Selectable<SalesRepTable>;
export type OrganizationSalesRep = Selectable<OrganizationSalesRepTable>;
export type Customer = Selectable<CustomerTable>;
export type NewCustomer = Insertable<CustomerTable>;
