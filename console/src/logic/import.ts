import { type CustomerRow, chunkErrors, type RowError } from './csv.js';
import { isProblem } from './problems.js';

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

/** What the typed client answered for a bulk request, as importChunk takes it (a Retry-After of at most 30 s). */
export function putAnswerOf(result: { error?: unknown; response: Response }): PutAnswer {
  if (result.error === undefined) return { ok: true };
  const problem = isProblem(result.error) ? result.error : undefined;
  const retryAfter = Number(result.response.headers.get('retry-after'));
  return {
    ok: false,
    status: result.response.status,
    detail: problem?.detail ?? result.response.statusText,
    errors: problem?.errors ?? [],
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) : undefined,
  };
}

const BUSY_RETRIES = 3;
const MAX_ROUNDS = 20;

/**
 * Imports one chunk of rows (the API's bulk PUT is all or none). A 400 or 409 that names rows (`[3].companyEmail`) gets
 * those rows reported and the rest sent again without them, until the rest is written; a 429 or 503 is tried again
 * after its Retry-After, a few times; any other refusal reports the rows left as one range of lines. So every row
 * ends up either written or listed, and none is written twice.
 */
export async function importChunk<Row extends { line: number }>(
  chunk: readonly Row[],
  put: (rows: readonly Row[]) => Promise<PutAnswer>,
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
    const named =
      answer.status === 400 || answer.status === 409
        ? rowsNamed(answer.errors, rest.length)
        : new Set<number>();
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

function rangeError(rows: readonly { line: number }[], detail: string): RowError {
  const first = rows[0]?.line ?? 0;
  const last = rows.at(-1)?.line ?? first;
  return {
    line: first,
    field: 'rows',
    message: `${rows.length === 1 ? `line ${first}` : `lines ${first}–${last} (${rows.length} rows)`}: ${detail}`,
  };
}

/** The most distinct rep numbers a file's check looks up, one request each; a file with more is not checked. */
export const REP_CHECK_MAX = 200;

/**
 * The rep numbers of the rows that match no sales rep, with the lines that name each, in the order of the file;
 * `undefined` when the file names more than REP_CHECK_MAX numbers (they are not looked up). `exists` asks the API
 * about one number; a few are asked at a time.
 */
export async function unknownRepNumbers(
  rows: readonly ImportRow[],
  exists: (repNumber: string) => Promise<boolean>,
  concurrency = 4,
): Promise<Map<string, number[]> | undefined> {
  const linesOf = new Map<string, number[]>();
  for (const row of rows) {
    const repNumber = row.customer.repNumber;
    if (repNumber) linesOf.set(repNumber, [...(linesOf.get(repNumber) ?? []), row.line]);
  }
  if (linesOf.size > REP_CHECK_MAX) return undefined;
  const numbers = [...linesOf.keys()];
  const unknown = new Set<string>();
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < numbers.length; index = next++) {
      const repNumber = numbers[index] as string;
      if (!(await exists(repNumber))) unknown.add(repNumber);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, numbers.length) }, worker));
  return new Map([...linesOf].filter(([repNumber]) => unknown.has(repNumber)));
}

/** How many rows of the file a list of errors is about (a row may have several errors; line 1 is the header). */
export function rowsWithErrors(errors: readonly RowError[]): number {
  return new Set(errors.filter((error) => error.line > 1).map((error) => error.line)).size;
}

/** Errors in the order of the file's lines (stable: a line's errors keep their order). */
export function inLineOrder(errors: readonly RowError[]): RowError[] {
  return [...errors].sort((a, b) => a.line - b.line);
}
