import type { InvitationEmail } from '../outbox.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** LOGIN_URL with `{org}` replaced by the organization's identity organization id, so each organization can have its own. */
export function loginLinkFor(loginUrl: string, identityOrganizationId: string): string {
  return loginUrl.replaceAll('{org}', encodeURIComponent(identityOrganizationId));
}

/** The welcome email of a new assignment, or the re-invitation of a reactivated one: text and HTML parts. */
export function invitationMessage(
  kind: 'welcome' | 'reinvitation',
  invitation: InvitationEmail,
  loginUrl: string,
): MailMessage {
  const link = loginLinkFor(loginUrl, invitation.identityOrganizationId);
  const organization = invitation.organizationName;
  const subject =
    kind === 'welcome'
      ? `Welcome to ${organization} as a sales rep`
      : `Your sales rep access to ${organization} is restored`;
  const opening =
    kind === 'welcome'
      ? `You have been added as a sales rep of ${organization}.`
      : `Your access as a sales rep of ${organization} has been restored.`;
  const text = [
    `Hello ${invitation.firstName} ${invitation.lastName},`,
    '',
    opening,
    `Your rep number: ${invitation.repNumber}`,
    '',
    `Log in here: ${link}`,
    `Sign in with this email address (${invitation.to}).`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body>',
    `<p>Hello ${escapeHtml(invitation.firstName)} ${escapeHtml(invitation.lastName)},</p>`,
    `<p>${escapeHtml(opening)}</p>`,
    `<p>Your rep number: <strong>${escapeHtml(invitation.repNumber)}</strong></p>`,
    `<p><a href="${escapeHtml(link)}">Log in to ${escapeHtml(organization)}</a></p>`,
    `<p>Sign in with this email address (${escapeHtml(invitation.to)}).</p>`,
    '</body></html>',
  ].join('\n');
  return { to: invitation.to, subject, text, html };
}
