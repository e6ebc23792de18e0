// Scrubbing emails, phone numbers and credentials out of text before it is logged.
const EMAIL = /[^\s@"'<>(),;:/?&=]+@[^\s@"'<>(),;:/?&=]+\.[^\s@"'<>(),;:/?&=]+/g;
// A run of digits with the separators phone numbers are written with (a query string's `+` is a space); only
// runs of 7+ digits are numbers.
const PHONE_CANDIDATE = /\+?\(?\d[\d\s().+-]{5,}\d/g;
// Query parameters that may carry a credential, whatever their value looks like.
const SECRET_PARAMETER =
  /([?&;](?:[^=&]*(?:token|secret|pass|pwd|key|code|state|auth|jwt|session|credential)[^=&]*)=)[^&]*/gi;
// A JWT anywhere (a path segment, a fragment of a message): three base64url parts, the first a JSON header.
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/** Removes email addresses, phone numbers and credentials from text bound for the logs. */
export function scrub(text: string): string {
  return text
    .replace(JWT, '[jwt]')
    .replace(SECRET_PARAMETER, '$1[redacted]')
    .replace(EMAIL, '[email]')
    .replace(PHONE_CANDIDATE, (match) => ((match.match(/\d/g)?.length ?? 0) >= 7 ? '[phone]' : match));
}
