/**
 * The key a case-insensitive prefix search compares: the same lower-casing on the stored text and on the searched
 * text. Computed here rather than by the database, whose `lower()` on "C"-collated text lowers ASCII letters only.
 */
export function searchKey(value: string): string {
  return value.normalize('NFC').toLowerCase();
}
