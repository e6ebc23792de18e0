// The mails' texts: the invitation, the re-invitation and the sign-in link, as text and HTML.
import { escapeHtml } from '../../kernel/html.js';
import type { InvitationEmail, SigninLinkEmail } from '../outbox.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** LOGIN_URL with `{org}` replaced by the organization's identity organization id, so each organization can have its own. */
export function loginLinkFor(loginUrl: string, identityOrganizationId: string): string {
  return loginUrl.replaceAll('{org}', encodeURIComponent(identityOrganizationId));
}

/** Where an invitation mail leads: LOGIN_URL, or the embedded sign-in's link (to set a password, or to sign in). */
export interface InvitationLink {
  url: string;
  setsPassword: boolean;
  expiresAt: Date | undefined;
}

function invitationWords(kind: 'welcome' | 'reinvitation', organization: string) {
  return kind === 'welcome'
    ? {
        subject: `Welcome to ${organization} as a sales rep`,
        opening: `You have been added as a sales rep of ${organization}.`,
      }
    : {
        subject: `Your sales rep access to ${organization} is restored`,
        opening: `Your access as a sales rep of ${organization} has been restored.`,
      };
}

/**
 * A mail to a rep: the greeting, the opening and the rep number, then what to do (`text` lines for the text part,
 * `html` paragraphs, already escaped, for the HTML part).
 */
function repMessage(
  invitation: InvitationEmail,
  words: { subject: string; opening: string },
  next: { text: string[]; html: string[] },
): MailMessage {
  const text = [
    `Hello ${invitation.firstName} ${invitation.lastName},`,
    '',
    words.opening,
    `Your rep number: ${invitation.repNumber}`,
    '',
    ...next.text,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body>',
    `<p>Hello ${escapeHtml(invitation.firstName)} ${escapeHtml(invitation.lastName)},</p>`,
    `<p>${escapeHtml(words.opening)}</p>`,
    `<p>Your rep number: <strong>${escapeHtml(invitation.repNumber)}</strong></p>`,
    ...next.html,
    '</body></html>',
  ].join('\n');
  return { to: invitation.to, subject: words.subject, text, html };
}

/** The welcome email of a new assignment, or the re-invitation of a reactivated one: text and HTML parts. */
export function invitationMessage(
  kind: 'welcome' | 'reinvitation',
  invitation: InvitationEmail,
  target: InvitationLink,
): MailMessage {
  const link = target.url;
  const organization = invitation.organizationName;
  return repMessage(invitation, invitationWords(kind, organization), {
    text: [
      ...(target.setsPassword
        ? [`Set your password here: ${link}`, `The link works once${until(target.expiresAt)}.`]
        : [`Log in here: ${link}`]),
      `Sign in with this email address (${invitation.to}).`,
    ],
    html: [
      target.setsPassword
        ? `<p><a href="${escapeHtml(link)}">Set your password for ${escapeHtml(organization)}</a> (the link works once${escapeHtml(until(target.expiresAt))}).</p>`
        : `<p><a href="${escapeHtml(link)}">Log in to ${escapeHtml(organization)}</a></p>`,
      `<p>Sign in with this email address (${escapeHtml(invitation.to)}).</p>`,
    ],
  });
}

/**
 * The welcome (or re-invitation) of a rep whose organization signs its people in through its own identity provider:
 * the organization's sign-in link, and the company account to use there; no password is asked for.
 */
export function companySignInMessage(
  kind: 'welcome' | 'reinvitation',
  invitation: InvitationEmail,
  signinUrl: string,
): MailMessage {
  const organization = invitation.organizationName;
  const how = `${organization} signs you in with your company account: there is no password to set here.`;
  return repMessage(invitation, invitationWords(kind, organization), {
    text: [how, `Sign in here with your company account (${invitation.to}): ${signinUrl}`],
    html: [
      `<p>${escapeHtml(how)}</p>`,
      `<p><a href="${escapeHtml(signinUrl)}">Sign in to ${escapeHtml(organization)} with your company account</a> (${escapeHtml(invitation.to)}).</p>`,
    ],
  });
}

function until(expiresAt: Date | undefined): string {
  return expiresAt ? `, until ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
}

/** An admin's invitation, or a password reset: a single-use link to set a password. */
export function signinLinkMessage(
  payload: SigninLinkEmail,
  link: { url: string; expiresAt: Date },
): MailMessage {
  const invitation = payload.purpose === 'invitation';
  const organization = payload.organizationName;
  // An invitation without an organization is a new link a person without a password asked for on the sign-in pages.
  const subject = !invitation
    ? 'Reset your Sales Reps password'
    : organization
      ? `You are invited to administer ${organization}`
      : 'Your new Sales Reps invitation link';
  const opening = !invitation
    ? 'Somebody (you, we hope) asked to reset the password of this address. If it was not you, ignore this mail.'
    : organization
      ? `You have been invited as an administrator of ${organization}.`
      : 'Here is a new link to set the password of your Sales Reps account, as asked on the sign-in page.';
  const action = invitation ? 'Set your password' : 'Choose a new password';
  const text = [
    'Hello,',
    '',
    opening,
    '',
    `${action} here: ${link.url}`,
    `The link works once${until(link.expiresAt)}.`,
    `Sign in with this email address (${payload.to}).`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body>',
    '<p>Hello,</p>',
    `<p>${escapeHtml(opening)}</p>`,
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(action)}</a> (the link works once${escapeHtml(until(link.expiresAt))}).</p>`,
    `<p>Sign in with this email address (${escapeHtml(payload.to)}).</p>`,
    '</body></html>',
  ].join('\n');
  return { to: payload.to, subject, text, html };
}
