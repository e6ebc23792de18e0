const EMAIL = /[^\s@"'<>(),;:/?&=]+@[^\s@"'<>(),;:/?&=]+\.[^\s@"'<>(),;:/?&=]+/g;
// A run of digits with the separators phone numbers are written with; only runs of 7+ digits are numbers.
const PHONE_CANDIDATE = /\+?\(?\d[\d\s().-]{5,}\d/g;
// Query parameters that may carry a credential, whatever their value looks like.
const SECRET_PARAMETER = /([?&](?:[^=&]*(?:token|secret|password|key|code|auth)[^=&]*)=)[^&]*/gi;

/** Removes email addresses, phone numbers and credentials from text bound for the logs. */
export function scrub(text: string): string {
  return text
    .replace(SECRET_PARAMETER, '$1[redacted]')
    .replace(EMAIL, '[email]')
    .replace(PHONE_CANDIDATE, (match) => ((match.match(/\d/g)?.length ?? 0) >= 7 ? '[phone]' : match));
}
