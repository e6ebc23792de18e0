import { type Problem, plainFieldMessage, problemCode } from './problems.js';

/** What the "Single sign-on" form holds, as typed. */
export interface ConnectionForm {
  protocol: 'oidc' | 'saml';
  issuer: string;
  clientId: string;
  clientSecret: string;
  metadataSource: 'url' | 'xml';
  metadataUrl: string;
  metadataXml: string;
  domains: string;
  passwordSignIn: boolean;
}

/** The form's fields that the API's errors can name, with their labels. */
export const CONNECTION_LABELS = {
  issuer: 'Issuer',
  clientId: 'Client ID',
  clientSecret: 'Client secret',
  metadataUrl: 'Metadata URL',
  metadataXml: 'Metadata XML',
  domains: 'Email domains',
} as const;

type ConnectionField = keyof typeof CONNECTION_LABELS;

/** What to do about an empty field (the labels' abbreviations kept as written). */
const ENTER: Record<Exclude<ConnectionField, 'domains'>, string> = {
  issuer: 'Enter the issuer, like https://acme.okta.com',
  clientId: 'Enter the client ID',
  clientSecret: 'Enter the client secret',
  metadataUrl: 'Enter the metadata URL',
  metadataXml: 'Paste the metadata XML',
};

/** The domains typed, one per comma, semicolon, space or line; empty parts dropped. */
export function parseDomains(text: string): string[] {
  return text.split(/[\s,;]+/).filter((domain) => domain !== '');
}

/** The body of PUT /api/organizations/sso for the protocol (and SAML metadata source) chosen. */
export function connectionBody(form: ConnectionForm) {
  const common = { domains: parseDomains(form.domains), passwordSignIn: form.passwordSignIn };
  if (form.protocol === 'oidc') {
    return {
      protocol: 'oidc' as const,
      issuer: form.issuer.trim(),
      clientId: form.clientId.trim(),
      clientSecret: form.clientSecret,
      ...common,
    };
  }
  return form.metadataSource === 'url'
    ? { protocol: 'saml' as const, metadataUrl: form.metadataUrl.trim(), ...common }
    : { protocol: 'saml' as const, metadataXml: form.metadataXml, ...common };
}

/** The fields the chosen protocol's form shows: the API reports every variant's errors, only these are the form's. */
function fieldsOf(form: ConnectionForm): ConnectionField[] {
  if (form.protocol === 'oidc') return ['issuer', 'clientId', 'clientSecret', 'domains'];
  return [form.metadataSource === 'url' ? 'metadataUrl' : 'metadataXml', 'domains'];
}

/**
 * The fields left empty that the chosen protocol needs, with what to enter: checked before the request, since the
 * API's answer to an incomplete body of one shape is lost among the other shapes' errors.
 */
export function missingFields(form: ConnectionForm): Record<string, string> {
  const missing: Record<string, string> = {};
  for (const field of fieldsOf(form)) {
    if (field !== 'domains' && form[field].trim() === '') {
      missing[field] = ENTER[field];
    }
  }
  return missing;
}

/**
 * A 400's errors beside the form's fields, in plain words. The body is one of three shapes, so the API lists what
 * each shape missed ("is not a known field", `protocol`, `body`): only the errors of the fields shown count. The
 * service's own checks of an IdP ("its discovery document … could not be used") say what it found; a domain
 * another organization's connection serves (409) is the domains field's too.
 */
export function connectionFieldMessages(problem: Problem, form: ConnectionForm): Record<string, string> {
  const shown = fieldsOf(form);
  const domains = parseDomains(form.domains);
  const byField: Record<string, string> = {};
  if (problemCode(problem) === 'sso-domain-taken') {
    byField.domains = `${problem.detail ?? "Another organization's connection serves one of these domains."} A domain can be one organization's only: leave it out.`;
  }
  for (const error of problem.errors ?? []) {
    const domainIndex = /^domains\[(\d+)\]$/.exec(error.field)?.[1];
    const field = (domainIndex === undefined ? error.field : 'domains') as ConnectionField;
    if (!shown.includes(field) || byField[field] !== undefined) continue;
    if (error.message === 'is not a known field') continue;
    byField[field] = plainConnectionMessage(field, error.message, domains[Number(domainIndex)]);
  }
  return byField;
}

function plainConnectionMessage(field: ConnectionField, message: string, domain?: string): string {
  const label = CONNECTION_LABELS[field];
  if (field === 'domains') {
    return domain === undefined
      ? plainFieldMessage(label, message)
      : `"${domain}" is not an email domain: enter domains like acme.com, separated by commas`;
  }
  if (message === 'is required' || /fewer than 1 character/.test(message)) return ENTER[field];
  if (message === 'must be an absolute URL') {
    return field === 'issuer'
      ? 'Enter the issuer as a whole address, like https://acme.okta.com'
      : `Enter the ${label} as a whole address, starting with https://`;
  }
  if (/^(its|it|the) /.test(message)) {
    return field === 'issuer'
      ? `The service could not use this issuer: ${message}.`
      : `The service could not use this metadata: ${message}.`;
  }
  return plainFieldMessage(label, message);
}

/** How long a new setup link works: the choices offered, in hours (the API takes 1 to 168). */
export const SETUP_LINK_DURATIONS = [
  { hours: 24, label: '24 hours' },
  { hours: 72, label: '72 hours' },
  { hours: 168, label: '7 days' },
] as const;

/** Until when a setup link works, in plain words: the local date and time, and how long from `now`. */
export function setupLinkExpiry(expiresAt: string, now: Date): string {
  const until = new Date(expiresAt);
  const hours = Math.round((until.getTime() - now.getTime()) / 3_600_000);
  const left = hours >= 48 && hours % 24 === 0 ? `${hours / 24} days` : `${hours} hours`;
  const when = until.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
  return `It works until ${when} (in ${left}), and only until a connection is saved with it.`;
}
