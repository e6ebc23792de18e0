import { type CustomerRow, chunkErrors, type RowError } from './csv.js';

export interface ImportRow {
  line: number;
  customer: CustomerRow;
}

/** What one bulk PUT answered. */
export type PutAnswer =
  | { ok: true }
  | {
      ok: false;
      status: number;
      detail: string;
      errors: readonly { field: string; message: string }[];
      retryAfterSeconds: number | undefined;
    };

const BUSY_RETRIES = 3;
const MAX_ROUNDS = 20;

/**
 * Imports one chunk of rows (the API's bulk PUT is all or none). A 400 that names rows (`[3].companyEmail`) gets
 * those rows reported and the rest sent again without them, until the rest is written; a 429 or 503 is tried again
 * after its Retry-After, a few times; any other refusal reports the rows left as one range of lines. So every row
 * ends up either written or listed, and none is written twice.
 */
export async function importChunk(
  chunk: readonly ImportRow[],
  put: (rows: readonly ImportRow[]) => Promise<PutAnswer>,
  wait: (seconds: number) => Promise<void>,
): Promise<{ imported: number; errors: RowError[] }> {
  let rest = [...chunk];
  const errors: RowError[] = [];
  let busy = 0;
  for (let round = 0; rest.length > 0 && round < MAX_ROUNDS; round++) {
    const answer = await put(rest);
    if (answer.ok) return { imported: rest.length, errors };
    if ((answer.status === 429 || answer.status === 503) && busy < BUSY_RETRIES) {
      busy++;
      await wait(answer.retryAfterSeconds ?? 1);
      continue;
    }
    const named = answer.status === 400 ? rowsNamed(answer.errors, rest.length) : new Set<number>();
    if (named.size === 0) {
      errors.push(rangeError(rest, answer.detail));
      return { imported: 0, errors };
    }
    errors.push(
      ...chunkErrors(
        rest,
        answer.errors.filter((error) => named.has(rowIndex(error.field) ?? -1)),
        answer.detail,
      ),
    );
    rest = rest.filter((_, index) => !named.has(index));
  }
  if (rest.length > 0) errors.push(rangeError(rest, 'not imported: too many rounds of errors'));
  return { imported: 0, errors };
}

function rowIndex(field: string): number | undefined {
  const match = /^\[(\d+)\]/.exec(field);
  return match ? Number(match[1]) : undefined;
}

function rowsNamed(errors: readonly { field: string }[], count: number): Set<number> {
  const named = new Set<number>();
  for (const error of errors) {
    const index = rowIndex(error.field);
    if (index !== undefined && index < count) named.add(index);
  }
  return named;
}

function rangeError(rows: readonly ImportRow[], detail: string): RowError {
  const first = rows[0]?.line ?? 0;
  const last = rows.at(-1)?.line ?? first;
  return {
    line: first,
    field: 'rows',
    message: `${rows.length === 1 ? `line ${first}` : `lines ${first}–${last} (${rows.length} rows)`}: ${detail}`,
  };
}
