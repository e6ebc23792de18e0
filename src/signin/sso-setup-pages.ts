/*
 * The enterprise connection's pages for people without an account: the setup link's page (the values for the IdP,
 * the connection's form) and a test sign-in's answer. Plain HTML without scripts, as the sign-in pages.
 */

import { escapeHtml } from '../kernel/html.js';
import type { SsoConnection } from '../sso/schemas.js';
import type { MatchPreview } from '../sso/service.js';
import type { TestAnswer } from '../sso/test-sign-in.js';
import { page } from './pages.js';

/** Wider than the sign-in form: the values to copy are long URLs. */
const WIDE = `<style>main{max-width:44rem}code{word-break:break-all}textarea{display:block;width:100%;box-sizing:border-box;min-height:8rem;margin-top:.3rem;font-family:monospace}
fieldset{margin-top:1.2rem;border:1px solid #c9ced6;border-radius:4px}legend{font-weight:600}
input[type=radio],input[type=checkbox]{display:inline;width:auto;margin-right:.4rem}label.inline{display:inline;font-weight:400}
dt{font-weight:600;margin-top:.6rem}dd{margin-left:0}table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #c9ced6;padding:.3rem}td{word-break:break-all}
.ok{padding:.6rem;background:#e7f4ea;border:1px solid #1e7b34;border-radius:4px}</style>`;

const alert = (message: string | undefined) =>
  message ? `<p class="alert" role="alert">${escapeHtml(message)}</p>` : '';

/** What a setup page's form held when posted again: every field but the secret, which is never sent back. */
export interface SetupFormValues {
  protocol: 'oidc' | 'saml';
  issuer: string;
  clientId: string;
  metadataUrl: string;
  metadataXml: string;
  domains: string;
  passwordSignIn: boolean;
}

export const emptySetupForm = (current: SsoConnection | undefined): SetupFormValues => ({
  protocol: current?.protocol ?? 'oidc',
  issuer: current?.issuer ?? '',
  clientId: current?.clientId ?? '',
  metadataUrl: '',
  metadataXml: '',
  domains: current?.domains.join(', ') ?? '',
  passwordSignIn: current?.passwordSignIn ?? false,
});

function describeCurrent(current: SsoConnection): string {
  const idp = current.protocol === 'oidc' ? current.issuer : current.idpEntityId;
  return `${current.protocol === 'oidc' ? 'OpenID Connect' : 'SAML 2.0'} with ${idp ?? ''}`;
}

/** The values the IdP is given, for either protocol. */
function valuesForIdp(values: {
  redirectUri: string;
  spEntityId: string;
  acsUrl: string;
  spMetadataUrl: string;
}): string {
  const item = (term: string, value: string) =>
    `<dt>${escapeHtml(term)}</dt><dd><code>${escapeHtml(value)}</code></dd>`;
  return `<h2>Values for your identity provider</h2>
<p>OpenID Connect (an OIDC web application, authorization code flow):</p>
<dl>${item('Redirect (callback) URI', values.redirectUri)}</dl>
<p>SAML 2.0 (or give your IdP the metadata URL):</p>
<dl>${item('Entity ID (audience)', values.spEntityId)}${item('ACS URL (reply URL)', values.acsUrl)}${item('SP metadata URL', values.spMetadataUrl)}</dl>
<p class="note">The IdP must send the person's email address (OIDC: the <code>email</code> scope, with <code>email_verified</code>; SAML: an email attribute or an email-format NameID).</p>`;
}

export function setupPage(options: {
  action: string;
  csrf: string;
  organizationName: string;
  expiresAt: Date;
  values: { redirectUri: string; spEntityId: string; acsUrl: string; spMetadataUrl: string };
  current: SsoConnection | undefined;
  testHref: string | undefined;
  form: SetupFormValues;
  error?: string | undefined;
}): string {
  const { form } = options;
  const checked = (on: boolean) => (on ? ' checked' : '');
  const current = options.current
    ? `<p>A connection is set: ${escapeHtml(describeCurrent(options.current))}. Saving replaces it.${
        options.testHref ? ` <a href="${escapeHtml(options.testHref)}">Test sign-in with it</a>.` : ''
      }</p>`
    : '';
  return page(
    'Set up single sign-on',
    `<p>For <strong>${escapeHtml(options.organizationName)}</strong>. This link works until ${escapeHtml(
      options.expiresAt.toISOString().replace('T', ' ').slice(0, 16),
    )} UTC, and only until a connection is saved with it.</p>${current}
${valuesForIdp(options.values)}
<h2>Your identity provider</h2>${alert(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<fieldset><legend>Protocol</legend>
<input type="radio" id="protocol-oidc" name="protocol" value="oidc"${checked(form.protocol === 'oidc')}><label class="inline" for="protocol-oidc">OpenID Connect</label>
<input type="radio" id="protocol-saml" name="protocol" value="saml"${checked(form.protocol === 'saml')}><label class="inline" for="protocol-saml">SAML 2.0</label>
</fieldset>
<fieldset><legend>OpenID Connect</legend>
<label for="issuer">Issuer URL</label>
<input id="issuer" name="issuer" type="url" maxlength="2000" value="${escapeHtml(form.issuer)}">
<label for="clientId">Client ID</label>
<input id="clientId" name="clientId" maxlength="500" value="${escapeHtml(form.clientId)}">
<label for="clientSecret">Client secret</label>
<input id="clientSecret" name="clientSecret" type="password" autocomplete="off" maxlength="2000">
</fieldset>
<fieldset><legend>SAML 2.0: the IdP's metadata URL, or its metadata XML</legend>
<label for="metadataUrl">Metadata URL</label>
<input id="metadataUrl" name="metadataUrl" type="url" maxlength="2000" value="${escapeHtml(form.metadataUrl)}">
<label for="metadataXml">Metadata XML</label>
<textarea id="metadataXml" name="metadataXml">${escapeHtml(form.metadataXml)}</textarea>
</fieldset>
<label for="domains">Email domains</label>
<input id="domains" name="domains" maxlength="13000" value="${escapeHtml(form.domains)}" aria-describedby="domains-note">
<p id="domains-note" class="note">Separated by commas, e.g. <code>acme.example, acme-corp.example</code>: emails of these domains are sent to your IdP.</p>
<p><input type="checkbox" id="passwordSignIn" name="passwordSignIn" value="true"${checked(form.passwordSignIn)}><label class="inline" for="passwordSignIn">People may still sign in with a password</label></p>
<button type="submit">Save the connection</button>
</form>`,
    WIDE,
  );
}

export function setupSavedPage(options: {
  organizationName: string;
  connection: SsoConnection;
  testHref: string | undefined;
}): string {
  return page(
    'Single sign-on is set up',
    `<p class="ok" role="status">${escapeHtml(options.organizationName)} now signs in through ${escapeHtml(
      describeCurrent(options.connection),
    )}${options.connection.domains.length > 0 ? ` for ${escapeHtml(options.connection.domains.join(', '))}` : ''}.</p>
<p>This setup link is now used up; an administrator of the organization can create a new one.</p>
${
  options.testHref
    ? `<p><a href="${escapeHtml(options.testHref)}">Test sign-in</a>: one round trip to your identity provider, whose answer is shown here (for 10 minutes).</p>`
    : '<p class="note">A test sign-in cannot start now: the identity provider cannot be reached.</p>'
}`,
    WIDE,
  );
}

function matchText(match: MatchPreview | undefined): { ok: boolean; text: string } {
  if (!match)
    return { ok: false, text: 'The connection was changed or removed meanwhile: start a new test.' };
  if (match.kind === 'stranger') {
    const why = {
      unknown:
        'It matches no one the organization added: the sign-in would be refused. Add the person (as a rep, with this email), or check which email the identity provider sends.',
      'email-unverified':
        'The identity provider did not confirm the email address (email_verified), so it matches no one: the sign-in would be refused.',
      'subject-mismatch':
        'The email is that of a person already linked to another subject of this identity provider: the sign-in would be refused.',
    }[match.reason];
    return { ok: false, text: why };
  }
  const who = `${match.name ? `${match.name} ` : ''}<${match.email}>`;
  const by =
    match.by === 'subject'
      ? 'found by the identity provider subject remembered at an earlier sign-in'
      : 'found by the verified email; the subject would be remembered at the first sign-in';
  if (match.refusal === 'deactivated') {
    return {
      ok: false,
      text: `It matches ${who} (${by}), who is deactivated: the sign-in would be refused.`,
    };
  }
  if (match.refusal === 'removed') {
    return {
      ok: false,
      text: `It matches ${who} (${by}), who has no access any more: the sign-in would be refused.`,
    };
  }
  return {
    ok: true,
    text: `It would sign in ${who}${match.organizationSalesRepId ? ', a rep' : ''} (${by}).`,
  };
}

const claimValue = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function table(caption: string, rows: [string, string][]): string {
  if (rows.length === 0) return '';
  return `<table><caption>${escapeHtml(caption)}</caption><tr><th scope="col">Name</th><th scope="col">Value</th></tr>${rows
    .map(([name, value]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('')}</table>`;
}

const REFUSALS: Record<string, string> = {
  'unknown-state': 'This test sign-in has expired or was already completed. Start a new one.',
  'connection-gone': 'The connection was removed meanwhile.',
  discovery: 'The identity provider cannot be reached just now.',
  'idp-error':
    'The identity provider answered with an error (the person cancelled, or is not assigned to the application).',
};

/** The test sign-in's answer: what the IdP sent, and whom it would sign in; or why the answer was refused. */
export function testSignInPage(answer: TestAnswer): string {
  const note =
    '<p class="note">A test: no one was signed in, and nothing was remembered. Tokens are never shown.</p>';
  if (answer.kind === 'refused') {
    const text =
      REFUSALS[answer.reason] ??
      `The identity provider's answer failed a check (${answer.reason}), so no one could sign in with it.`;
    return page('Test sign-in', `${alert(text)}${note}`, WIDE);
  }
  const { ok, text } = matchText(answer.match);
  const result = ok ? `<p class="ok" role="status">${escapeHtml(text)}</p>` : alert(text);
  const sent =
    answer.kind === 'oidc'
      ? table(
          'ID token claims',
          Object.entries(answer.claims.idToken).map(([name, value]) => [name, claimValue(value)]),
        ) +
        table(
          'Userinfo claims',
          Object.entries(answer.claims.userinfo ?? {}).map(([name, value]) => [name, claimValue(value)]),
        )
      : `<dl><dt>NameID</dt><dd><code>${escapeHtml(answer.nameId)}</code></dd><dt>Email read</dt><dd>${escapeHtml(
          answer.email ?? 'none',
        )}</dd></dl>${table(
          'Assertion attributes',
          Object.entries(answer.attributes).map(([name, values]) => [name, values.join(', ')]),
        )}`;
  return page('Test sign-in', `${result}${note}<h2>What the identity provider sent</h2>${sent}`, WIDE);
}
