/*
 * The sign-in pages: plain HTML forms without scripts, one label per field, errors announced (role="alert"), so
 * they work with a keyboard and a screen reader (checked with axe-core in a browser, test/signin/pages.test.ts).
 */

import { escapeHtml } from '../kernel/html.js';

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}
main{max-width:26rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #c9ced6;border-radius:6px}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin-top:1rem;font-weight:600}
input,select{display:block;width:100%;box-sizing:border-box;margin-top:.3rem;padding:.5rem;font-size:1rem;border:1px solid #5c6670;border-radius:4px}
button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus,input:focus,select:focus,a:focus{outline:3px solid #f2a900;outline-offset:2px}
.alert{padding:.6rem;background:#fdecea;border:1px solid #b3261e;color:#7a1712;border-radius:4px}
.note{color:#3d4650}a{color:#0b57d0}
button.secondary{background:#fff;color:#0b57d0;border:1px solid #0b57d0;margin-left:.5rem}`;

/** A whole page: its title, a body of trusted (already escaped) HTML, and trusted elements for its head. */
export function page(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">${head}<title>${escapeHtml(title)} – Sales Reps</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

function alert(message: string | undefined): string {
  return message ? `<p class="alert" role="alert">${escapeHtml(message)}</p>` : '';
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

export function signInPage(options: {
  action: string;
  csrf: string;
  email?: string | undefined;
  error?: string | undefined;
  organizationName?: string | undefined;
}): string {
  return page(
    'Sign in',
    `${options.organizationName ? `<p>to ${escapeHtml(options.organizationName)}</p>` : ''}${alert(options.error)}
<form method="post" action="${escapeHtml(options.action)}" novalidate>
${hidden('csrf', options.csrf)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${escapeHtml(options.email ?? '')}"${options.email ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"${options.email ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>
<p class="note">Does your organization sign you in? Enter your email and leave the password empty.</p>
<p class="note"><a href="/signin/reset">Forgot your password?</a></p>`,
  );
}

export function chooseOrganizationPage(options: {
  action: string;
  csrf: string;
  organizations: { identityOrganizationId: string; organizationName: string }[];
}): string {
  const choices = options.organizations
    .map(
      (organization) =>
        `<option value="${escapeHtml(organization.identityOrganizationId)}">${escapeHtml(organization.organizationName)}</option>`,
    )
    .join('');
  return page(
    'Choose an organization',
    `<form method="post" action="${escapeHtml(options.action)}">
${hidden('csrf', options.csrf)}
<label for="org_code">Organization</label>
<select id="org_code" name="org_code" autofocus>${choices}</select>
<button type="submit">Continue</button>
</form>`,
  );
}

export function setPasswordPage(options: {
  action: string;
  csrf: string;
  email: string;
  organizationName: string | null;
  purpose: 'invitation' | 'reset';
  minLength: number;
  error?: string | undefined;
}): string {
  const intro =
    options.purpose === 'invitation' && options.organizationName
      ? `<p>You are invited to <strong>${escapeHtml(options.organizationName)}</strong>. Choose a password to sign in with ${escapeHtml(options.email)}.</p>`
      : `<p>Choose a new password for ${escapeHtml(options.email)}.</p>`;
  return page(
    options.purpose === 'invitation' ? 'Set your password' : 'Choose a new password',
    `${intro}${alert(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden('csrf', options.csrf)}
<label for="username">Email</label>
<input id="username" name="username" type="email" autocomplete="username" value="${escapeHtml(options.email)}" readonly>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required maxlength="256" aria-describedby="password-rule" autofocus>
<p id="password-rule" class="note">At least ${options.minLength} characters; a long phrase is easiest to remember.</p>
<button type="submit">Set password</button>
</form>`,
  );
}

export function requestLinkPage(options: {
  action: string;
  csrf: string;
  title: string;
  explanation: string;
  error?: string | undefined;
}): string {
  return page(
    options.title,
    `<p>${escapeHtml(options.explanation)}</p>${alert(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden('csrf', options.csrf)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="320" autofocus>
<button type="submit">Send me a new link</button>
</form>`,
  );
}

/**
 * After a posted form, the way on to the organization's identity provider: a link, followed at once by the
 * browser (a refresh, which the pages' form-action policy does not govern, unlike a redirect after a post).
 */
export function continueToIdentityProviderPage(url: string): string {
  return page(
    'Continue to your organization',
    `<p>Your organization signs you in through its own identity provider.</p>
<p><a href="${escapeHtml(url)}">Continue to your organization's sign-in</a></p>`,
    `<meta http-equiv="refresh" content="0;url=${escapeHtml(url)}">`,
  );
}

/**
 * The step after an IdP's cross-site POST: a page of this site that goes on to `url` itself, so that the browser
 * sends the sign-in's cookies (SameSite) with that request.
 */
export function continueSignInPage(url: string): string {
  return page(
    'Signing you in',
    `<p>Your organization's identity provider signed you in.</p>
<p><a href="${escapeHtml(url)}">Continue</a></p>`,
    `<meta http-equiv="refresh" content="0;url=${escapeHtml(url)}">`,
  );
}

/** A page that says one thing, with at most one way on (a link). */
export function messagePage(
  title: string,
  message: string,
  alertRole = false,
  action?: { href: string; label: string },
): string {
  const link = action ? `\n<p><a href="${escapeHtml(action.href)}">${escapeHtml(action.label)}</a></p>` : '';
  return page(title, `${alertRole ? alert(message) : `<p>${escapeHtml(message)}</p>`}${link}`);
}

/**
 * The pages' own Content-Security-Policy: no script at all, and forms that may post here and be redirected to the
 * relying party's redirect URI (a browser applies form-action to the redirects that follow a post).
 */
export function pageSecurityPolicy(formTargets: string[]): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `form-action 'self' ${formTargets.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The origin of a URI, as a list of none or one. */
export function originOf(uri: unknown): string[] {
  try {
    return typeof uri === 'string' ? [new URL(uri).origin] : [];
  } catch {
    return [];
  }
}
