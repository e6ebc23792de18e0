/**
 * The key a case- and accent-insensitive search compares: the same folding of the stored text and of the searched
 * text — lower-cased, decomposed (NFD) and stripped of its combining marks, so that "ÉMI" and "emi" both find
 * "Émile". Computed here rather than by the database, so that both engines compare the same bytes: `lower()` on
 * "C"-collated text lowers ASCII letters only, and `unaccent` is a dictionary of its own. Lower-cased first, as
 * lower-casing can itself add a mark ("İ" is "i" and a dot above).
 */
export function searchKey(value: string): string {
  return value.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
}

/**
 * A LIKE pattern that finds the searched text anywhere in a search key: the text's key with `%`, `_` and the escape
 * character itself escaped, so that they are plain characters, between two `%`.
 */
function containsPattern(text: string): string {
  return `%${searchKey(text).replace(/[\\%_]/g, '\\$&')}%`;
}

/** How a search compares its text: see searchMode. */
export const SEARCH_MODES = ['prefix', 'trigrams', 'keys'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

/**
 * How a search compares its text (docs/decisions/0046-substring-search-through-trigrams.md): one or two characters
 * match the start of a field (`prefix`), more match anywhere in it. pg_trgm takes trigrams from runs of letters and
 * digits (ASCII ones in any locale): a text with a run of three is narrowed by the trigram index (`trigrams`); one
 * without gives it nothing to narrow by, so the organization's keys are read (`keys`).
 */
export function searchMode(text: string): SearchMode {
  const key = searchKey(text);
  if ([...key].length < 3) return 'prefix';
  return /[a-z0-9]{3}/.test(key) ? 'trigrams' : 'keys';
}

/**
 * Whether a search's pattern (searchValue) can be found in a row's keys joined by spaces across two of them: only if
 * it holds a space, since every other match lies within one key. Only such a pattern is compared with each key too.
 */
export function mayCrossFields(pattern: string): boolean {
  return pattern.includes(' ');
}

/** What a search binds: the key a prefix search's fields start with, or the pattern any other search's are like. */
export function searchValue(text: string): string {
  return searchMode(text) === 'prefix' ? searchKey(text) : containsPattern(text);
}
