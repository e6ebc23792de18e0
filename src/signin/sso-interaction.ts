// The interaction's part of enterprise single sign-on: when a sign-in goes to the organization's IdP, and its end.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { IdpIdentity } from '../sso/oidc.js';
import {
  DiscoveryError,
  finishOidcSignIn,
  IdpAnswerError,
  interactionOfState,
  startOidcSignIn,
} from '../sso/oidc.js';
import {
  connectionOfDomain,
  connectionOfIdentityOrganization,
  insertSamlSignIn,
  organizationsWithoutPasswords,
  samlSignIns,
} from '../sso/queries.js';
import { startSamlSignIn } from '../sso/saml/index.js';
import {
  answerPendingSamlRequest,
  type checkSamlAnswer,
  matchPerson,
  oidcClientOf,
  organizationOfSessionAcr,
  recordStranger,
  type SsoSettings,
  samlIdpOf,
  samlServiceProvider,
  ssoCallbackUrl,
  ssoSessionAcr,
} from '../sso/service.js';
import { continueToIdentityProviderPage } from './pages.js';
import type { Membership } from './queries.js';
import type { SignInMethod } from './service.js';

/** What the interaction knows of its session: who signed in, and how (`acr`, set by `loginResult`). */
interface InteractionView {
  session?: { accountId: string; acr?: string } | undefined;
}

export type SsoFinish =
  | { kind: 'person'; accountId: string; identityOrganizationId: string }
  | { kind: 'refused'; reason: string; status: number; title: string; message: string };

export type SsoInteraction = ReturnType<typeof ssoInteraction>;

/** How long a SAML sign-in waits for the IdP's answer: as long as the interaction it belongs to lives. */
const SAML_SIGN_IN_TTL_MS = 30 * 60 * 1000;

const expiredSignIn: SsoFinish = {
  kind: 'refused',
  reason: 'unknown-state',
  status: 400,
  title: 'Sign-in refused',
  message: 'This sign-in has expired or was already completed. Start again from the application you use.',
};

const notSignedIn = (reason: string): SsoFinish => ({
  kind: 'refused',
  reason,
  status: 401,
  title: 'Sign-in refused',
  message:
    "Your organization's identity provider did not sign you in. Start again from the application you use.",
});

/**
 * The rules that join the embedded provider's interaction and the organizations' connections (docs/sso.md):
 * - an organization whose connection does not allow passwords is signed in to only through its IdP;
 * - a session signed in through an IdP holds for that IdP's organization only (another needs a sign-in of its own);
 * - an email of a domain a connection serves goes to that IdP (home-realm discovery).
 */
export function ssoInteraction(deps: { db: Db; settings: SsoSettings; publicUrl: string }) {
  const { db, settings } = deps;
  const relyingParty = {
    redirectUri: ssoCallbackUrl(deps.publicUrl),
    allowPrivateNetworks: settings.allowPrivateNetworks,
  };
  const loadClient = (connectionId: string) => oidcClientOf(db, settings, connectionId);

  const sessionOrganization = (interaction: InteractionView): string | undefined =>
    organizationOfSessionAcr(interaction.session?.acr);

  /** The connection an organization signs in through only (no password), or undefined. */
  const requiredFor = async (identityOrganizationId: string): Promise<string | undefined> => {
    const connection = await connectionOfIdentityOrganization(db, identityOrganizationId);
    return connection && !connection.password_sign_in ? connection.id : undefined;
  };

  /** The person the organization added whom a checked answer names, or the refusal (recorded for a stranger). */
  const matched = async (identity: IdpIdentity, requestId: string): Promise<SsoFinish> => {
    const match = await matchPerson(db, identity);
    if (!match) {
      return {
        kind: 'refused',
        reason: 'connection-gone',
        status: 400,
        title: 'Sign-in expired',
        message: 'The sign-in was changed meanwhile. Start again from the application you use.',
      };
    }
    if (match.kind === 'stranger') {
      await recordStranger(db, {
        organizationId: match.organizationId,
        connectionId: identity.connectionId,
        subject: identity.subject,
        reason: match.reason,
        requestId,
      });
      return {
        kind: 'refused',
        reason: match.reason,
        status: 403,
        title: 'No access',
        message:
          match.reason === 'email-unverified'
            ? "Your organization's identity provider did not confirm your email address, so you cannot be recognized here. Ask your administrator."
            : 'Your organization has not given you access here. Ask its administrator to add you.',
      };
    }
    return {
      kind: 'person',
      accountId: match.accountId,
      identityOrganizationId: match.identityOrganizationId,
    };
  };

  return {
    sessionOrganization,
    sessionMethod: (interaction: InteractionView): SignInMethod =>
      sessionOrganization(interaction) === undefined ? 'password' : 'sso',
    requiredFor,

    /** The login of a person its organization's IdP vouched for, marked so that the session holds for it only. */
    loginResult: (accountId: string, identityOrganizationId: string) => ({
      accountId,
      acr: ssoSessionAcr(identityOrganizationId),
    }),

    /**
     * Whether a session must sign in again for the organization asked for: a session of one organization's IdP
     * asked for another, or a password session asked for an organization that signs in only through its IdP.
     */
    mustSignInAgain: async (interaction: InteractionView, orgCode: string | undefined): Promise<boolean> => {
      if (!interaction.session || orgCode === undefined) return false;
      const signedInFor = sessionOrganization(interaction);
      if (signedInFor !== undefined) return signedInFor !== orgCode;
      return (await requiredFor(orgCode)) !== undefined;
    },

    /**
     * The memberships a session may be granted: an IdP's session only its organization's (the caller asks for
     * that one), a password session none of an organization that signs in only through its IdP.
     */
    allowedMemberships: async (
      interaction: InteractionView | undefined,
      memberships: Membership[],
    ): Promise<Membership[]> => {
      const signedInFor = interaction && sessionOrganization(interaction);
      if (signedInFor !== undefined) {
        return memberships.filter((membership) => membership.identityOrganizationId === signedInFor);
      }
      const withoutPasswords = await organizationsWithoutPasswords(
        db,
        memberships.map((membership) => membership.identityOrganizationId),
      );
      return memberships.filter((membership) => !withoutPasswords.has(membership.identityOrganizationId));
    },

    /**
     * The connection an email goes to (home-realm discovery): the one serving its domain, when no other
     * organization was asked for, and either it allows no password or none was typed.
     */
    servingEmail: async (
      email: string,
      orgCode: string | undefined,
      passwordTyped: boolean,
    ): Promise<string | undefined> => {
      const at = email.lastIndexOf('@');
      if (at < 1 || at === email.length - 1) return undefined;
      const connection = await connectionOfDomain(db, email.slice(at + 1));
      if (!connection) return undefined;
      if (orgCode !== undefined && orgCode !== connection.identity_organization_id) return undefined;
      return connection.password_sign_in && passwordTyped ? undefined : connection.id;
    },

    start: async (input: {
      connectionId: string;
      interactionUid: string;
      loginHint: string | undefined;
    }): Promise<{ kind: 'redirect'; url: string } | { kind: 'unavailable'; reason: string }> => {
      const idp = await samlIdpOf(db, input.connectionId);
      if (idp) {
        // RelayState names the sign-in under way (within SAML's 80 bytes); the AuthnRequest id kept with it is
        // what binds the answer to this interaction, as only a response to that request is taken.
        const relayState = randomBytes(32).toString('base64url');
        const { redirectUrl, requestId } = await startSamlSignIn(db, {
          connectionId: input.connectionId,
          sp: samlServiceProvider(deps.publicUrl, input.connectionId),
          idp,
          relayState,
        });
        await insertSamlSignIn(db, {
          relayState,
          connectionId: input.connectionId,
          interactionUid: input.interactionUid,
          requestId,
          expiresAt: new Date(Date.now() + SAML_SIGN_IN_TTL_MS),
        });
        return { kind: 'redirect', url: redirectUrl };
      }
      const oidc = await loadClient(input.connectionId);
      if (!oidc) return { kind: 'unavailable', reason: 'no OpenID Connect connection' };
      try {
        const url = await startOidcSignIn(db, oidc, relyingParty, {
          interactionUid: input.interactionUid,
          loginHint: input.loginHint || undefined,
        });
        return { kind: 'redirect', url: url.href };
      } catch (error) {
        if (error instanceof DiscoveryError) return { kind: 'unavailable', reason: error.message };
        throw error;
      }
    },

    continuePage: continueToIdentityProviderPage,

    interactionOf: (state: string) => interactionOfState(db, state),

    /** Checks the IdP's answer (the callback's query) and matches it to a person the organization added. */
    finish: async (interactionUid: string, query: string, requestId: string): Promise<SsoFinish> => {
      const callbackUrl = new URL(relyingParty.redirectUri);
      callbackUrl.search = query;
      let identity: Awaited<ReturnType<typeof finishOidcSignIn>>;
      try {
        identity = await finishOidcSignIn(db, loadClient, relyingParty, { interactionUid, callbackUrl });
      } catch (error) {
        if (error instanceof IdpAnswerError) {
          return error.reason === 'unknown-state' ? expiredSignIn : notSignedIn(error.reason);
        }
        if (error instanceof DiscoveryError) {
          return {
            kind: 'refused',
            reason: 'discovery',
            status: 502,
            title: 'Sign-in unavailable',
            message: "Your organization's identity provider cannot be reached just now. Try again later.",
          };
        }
        throw error;
      }
      return matched(identity, requestId);
    },

    /**
     * Checks a SAML response POSTed to a connection's ACS URL: the sign-in under way its RelayState names, the
     * response (finishSamlSignIn), and that it answers that sign-in's own AuthnRequest; then matches it to a person
     * the organization added (an email from the IdP's signed assertion counts as verified). Needs no cookie: the
     * interaction is the one the sign-in was started for.
     */
    finishSaml: async (
      connectionId: string,
      form: { samlResponse: string; relayState: string },
      requestId: string,
      log: Parameters<typeof checkSamlAnswer>[3],
    ): Promise<SsoFinish & { interactionUid?: string }> => {
      const result = await answerPendingSamlRequest(
        db,
        settings,
        { connectionId, form, pending: samlSignIns },
        log,
      );
      if (result.kind === 'refused') return notSignedIn(result.reason);
      if (result.kind !== 'answered') return expiredSignIn;
      const { pending: signIn, answer } = result;
      const outcome = await matched(
        {
          connectionId,
          subject: answer.nameId,
          email: answer.email,
          emailVerified: answer.email !== undefined,
        },
        requestId,
      );
      return { ...outcome, interactionUid: signIn.interactionUid };
    },
  };
}
