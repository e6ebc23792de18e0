import Papa from 'papaparse';
import type { operations } from '../../../client/index.js';
import { labelOf, plainFieldMessage } from './problems.js';

/**
 * The customer columns a CSV file carries: the flat fields of a customer (docs/console.md). Addresses, contacts
 * and attributes are not in the file; an import replaces each customer's whole record, as the API's PUT does.
 */
export const CUSTOMER_COLUMNS = [
  'customerNumber',
  'companyName',
  'companyEmail',
  'companyPhone',
  'pricing',
  'terms',
  'active',
  'repNumber',
  'externalId',
] as const;
export type CustomerColumn = (typeof CUSTOMER_COLUMNS)[number];

/** The most rows one bulk PUT takes (the API's limit), and a body well within its 4 MiB. */
export const IMPORT_CHUNK_ROWS = 1000;
/** A file larger than this is refused before it is read: the console holds the whole file in memory. */
export const IMPORT_MAX_BYTES = 20 * 1024 * 1024;

type PutBody = operations['putCustomers']['requestBody']['content']['application/json'];
/** One customer as the bulk PUT takes it, with the fields a CSV row holds. */
export type CustomerRow = Pick<Extract<PutBody, readonly unknown[]>[number], CustomerColumn>;

export interface RowError {
  /** The line of the file (the header is line 1). */
  line: number;
  field: string;
  message: string;
}

export interface ParsedCustomers {
  rows: { line: number; customer: CustomerRow }[];
  errors: RowError[];
}

const BOOLEANS: Record<string, boolean> = {
  true: true,
  false: false,
  yes: true,
  no: false,
  '1': true,
  '0': false,
};

/**
 * Reads a customers CSV (a header row naming the columns, in any order; unknown columns are an error). A row the
 * file itself gets wrong (too few or too many cells, a missing number, an `active` that is no yes/no, the customer
 * number of an earlier row) is reported by its line in the file and never sent; everything else is checked by the API, whose errors come back per row.
 */
export function parseCustomersCsv(text: string): ParsedCustomers {
  const rows: ParsedCustomers['rows'] = [];
  // The line of each customer number's first row: a later row with the same number is reported, never sent.
  const firstLine = new Map<string, number>();
  const errors = readCsvRecords(
    text,
    { columns: CUSTOMER_COLUMNS, required: ['customerNumber', 'companyName'] },
    (record, line, errors) => {
      const customer = toCustomer(record, line, errors);
      if (!customer) return;
      const earlier = firstLine.get(customer.customerNumber);
      if (earlier === undefined) {
        firstLine.set(customer.customerNumber, line);
        rows.push({ line, customer });
      } else {
        errors.push({
          line,
          field: 'customerNumber',
          message: repeatedMessage(line, earlier, 'customer number'),
        });
      }
    },
  );
  return { rows, errors };
}

/**
 * Reads a CSV file of these columns (a header row naming them, in any order; an unknown or missing required column
 * refuses the file) and hands each record to `each` with its line in the file (blank lines and quoted line breaks
 * counted); a record the parser cannot read is reported by its line. Answers the errors found.
 */
export function readCsvRecords(
  text: string,
  spec: { columns: readonly string[]; required: readonly string[] },
  each: (record: Record<string, string>, line: number, errors: RowError[]) => void,
): RowError[] {
  const errors: RowError[] = [];
  const lines = lineCounter(text);
  let header: string[] | undefined;
  // Where the previous record ended: the next one starts at the first non-blank character after it.
  let previousEnd = text.indexOf('\n') + 1;
  Papa.parse<Record<string, string>>(text, {
    header: true,
    skipEmptyLines: 'greedy',
    transformHeader: (name) => name.trim(),
    step(result, parser) {
      if (header === undefined) {
        header = result.meta.fields ?? [];
        errors.push(...headerErrors(header, spec));
        if (errors.length > 0) {
          parser.abort();
          return;
        }
      }
      let start = previousEnd;
      while (start < text.length && /\s/.test(text.charAt(start))) start++;
      previousEnd = result.meta.cursor;
      const line = lines.at(start);
      if (result.errors.length > 0) {
        for (const error of result.errors) errors.push({ line, field: 'row', message: error.message });
        return;
      }
      each(result.data, line, errors);
    },
  });
  // A file of a header alone has no record for `step` to see.
  if (header === undefined) {
    const first = Papa.parse<string[]>(text, { preview: 1 }).data[0] ?? [];
    errors.push(
      ...headerErrors(
        first.map((name) => name.trim()),
        spec,
      ),
    );
  }
  return errors;
}

function headerErrors(
  header: readonly string[],
  spec: { columns: readonly string[]; required: readonly string[] },
): RowError[] {
  const errors: RowError[] = [];
  for (const column of header) {
    if (!spec.columns.includes(column)) {
      errors.push({
        line: 1,
        field: column,
        message: `"${column}" is not a known column; the columns are ${spec.columns.join(', ')}`,
      });
    }
  }
  for (const required of spec.required) {
    if (!header.includes(required)) {
      errors.push({ line: 1, field: required, message: `Add the column "${required}": every row needs it` });
    }
  }
  return errors;
}

/** The line (from 1) of a character of the text, for offsets asked in increasing order. */
function lineCounter(text: string) {
  let offset = 0;
  let line = 1;
  return {
    at(target: number): number {
      for (; offset < target; offset++) if (text.charCodeAt(offset) === 10) line++;
      return line;
    },
  };
}

/**
 * The export writes a cell that starts like a spreadsheet formula (=, +, -, @, tab, return) behind an apostrophe, so
 * that opening the file never runs it; the import takes the apostrophe off again.
 */
export const FORMULA_GUARD = /^'(?='*[=+\-@\t\r])/;

function toCustomer(
  record: Record<string, string>,
  line: number,
  errors: RowError[],
): CustomerRow | undefined {
  const value = (column: CustomerColumn): string | undefined => {
    const cell = record[column]?.trim().replace(FORMULA_GUARD, '');
    return cell === undefined || cell === '' ? undefined : cell;
  };
  const customerNumber = value('customerNumber');
  const companyName = value('companyName');
  let valid = true;
  if (!customerNumber) {
    errors.push({
      line,
      field: 'customerNumber',
      message: plainFieldMessage('Customer number', 'is required'),
    });
    valid = false;
  }
  if (!companyName) {
    errors.push({ line, field: 'companyName', message: plainFieldMessage('Company name', 'is required') });
    valid = false;
  }
  const activeText = value('active')?.toLowerCase();
  const active = activeText === undefined ? true : BOOLEANS[activeText];
  if (active === undefined) {
    errors.push({ line, field: 'active', message: 'Enter true or false (or yes or no, 1 or 0)' });
    valid = false;
  }
  if (!valid || !customerNumber || !companyName) return undefined;
  return {
    customerNumber,
    companyName,
    companyEmail: value('companyEmail') ?? null,
    companyPhone: value('companyPhone') ?? null,
    pricing: value('pricing') ?? null,
    terms: value('terms') ?? null,
    active: active ?? true,
    repNumber: value('repNumber') ?? null,
    externalId: value('externalId') ?? null,
  };
}

/** Rows in chunks the bulk PUT takes whole: each chunk is applied all or none by the API. */
export function chunks<T>(rows: readonly T[], size = IMPORT_CHUNK_ROWS): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < rows.length; start += size) result.push(rows.slice(start, start + size));
  return result;
}

/**
 * The API's errors of one refused chunk (fields like `[3].companyName`), as errors of the file's lines, in plain
 * words: a row named by its index in the chunk (`repeats the customer number of [4]`, `repeats the email of [0]`)
 * is named by its line. An
 * error without a row (the whole body) is put on the chunk's first line.
 */
export function chunkErrors(
  chunk: readonly { line: number }[],
  errors: readonly { field: string; message: string }[],
  fallback: string,
): RowError[] {
  if (errors.length === 0) return [{ line: chunk[0]?.line ?? 0, field: 'row', message: fallback }];
  const lineOf = (index: string) => chunk[Number(index)]?.line;
  return errors.map((error) => {
    const match = /^\[(\d+)\]\.?(.*)$/.exec(error.field);
    const line = (match && lineOf(match[1] as string)) ?? chunk[0]?.line ?? 0;
    const field = match?.[2] || error.field;
    const repeated = /^repeats the (.+) of \[(\d+)\]$/.exec(error.message);
    const earlier = repeated && lineOf(repeated[2] as string);
    return {
      line,
      field,
      message: earlier
        ? repeatedMessage(line, earlier, repeated[1] as string)
        : match?.[2]
          ? plainFieldMessage(labelOf(field), error.message)
          : error.message,
    };
  });
}

export function repeatedMessage(line: number, earlier: number, what: string): string {
  return `Line ${line} repeats the ${what} of line ${earlier}`;
}

/** A CSV text of customers with the import's columns: what "Export" downloads, and what an import reads back. */
export function customersCsv(customers: readonly Partial<Record<CustomerColumn, unknown>>[]): string {
  return Papa.unparse(
    {
      fields: [...CUSTOMER_COLUMNS],
      data: customers.map((customer) => CUSTOMER_COLUMNS.map((column) => csvCell(customer[column]))),
    },
    { escapeFormulae: /^'*[=+\-@\t\r]/ },
  );
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

/** The errors of an import as a CSV file (line, column, error), for the person to correct the file by. */
export function importErrorsCsv(errors: readonly RowError[]): string {
  return Papa.unparse(
    {
      fields: ['line', 'column', 'error'],
      data: errors.map((error) => [error.line, error.field, error.message]),
    },
    { escapeFormulae: /^'*[=+\-@\t\r]/ },
  );
}
