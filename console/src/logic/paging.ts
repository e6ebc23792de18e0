const numbers = new Intl.NumberFormat('en-US');

/** "1–25 of 100,000": the rows a page shows out of the total the API counted (X-Total-Count). */
export function pageRange(pageNumber: number, pageSize: number, total: number): string {
  if (total === 0) return 'No results';
  const first = (pageNumber - 1) * pageSize + 1;
  if (first > total) return `None of ${numbers.format(total)}`;
  const last = Math.min(pageNumber * pageSize, total);
  return `${numbers.format(first)}–${numbers.format(last)} of ${numbers.format(total)}`;
}

/** The number of the last page (at least 1): where "Last" goes. */
export function lastPage(pageSize: number, total: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}
