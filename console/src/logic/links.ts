/** The `cursor` of the `rel="next"` link of a Link header (RFC 8288), if there is such a link. */
export function nextCursor(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (!match?.[1] || !/\brel="?next"?/.test(match[2] ?? '')) continue;
    return new URL(match[1], 'http://link.invalid').searchParams.get('cursor') ?? undefined;
  }
  return undefined;
}
