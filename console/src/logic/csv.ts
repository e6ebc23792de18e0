import Papa from 'papaparse';

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

export interface CustomerRow {
  customerNumber: string;
  companyName: string;
  companyEmail?: string | null;
  companyPhone?: string | null;
  pricing?: string | null;
  terms?: string | null;
  active?: boolean;
  repNumber?: string | null;
  externalId?: string | null;
}

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
 * file itself gets wrong (a missing number, an `active` that is no yes/no) is reported here and never sent;
 * everything else is checked by the API, whose errors come back per row.
 */
export function parseCustomersCsv(text: string): ParsedCustomers {
  const parsed = Papa.parse<Record<string, string>>(text, {
    header: true,
    skipEmptyLines: 'greedy',
    transformHeader: (header) => header.trim(),
  });
  const errors: RowError[] = [];
  const header = parsed.meta.fields ?? [];
  for (const column of header) {
    if (!(CUSTOMER_COLUMNS as readonly string[]).includes(column)) {
      errors.push({
        line: 1,
        field: column,
        message: `is not a known column (${CUSTOMER_COLUMNS.join(', ')})`,
      });
    }
  }
  for (const required of ['customerNumber', 'companyName'] as const) {
    if (!header.includes(required)) errors.push({ line: 1, field: required, message: 'column is missing' });
  }
  if (errors.length > 0) return { rows: [], errors };
  for (const error of parsed.errors) {
    errors.push({ line: (error.row ?? 0) + 2, field: 'row', message: error.message });
  }
  const rows: ParsedCustomers['rows'] = [];
  parsed.data.forEach((record, index) => {
    const line = index + 2;
    const customer = toCustomer(record, line, errors);
    if (customer) rows.push({ line, customer });
  });
  return { rows, errors };
}

/**
 * The export writes a cell that starts like a spreadsheet formula (=, +, -, @, tab, return) behind an apostrophe, so
 * that opening the file never runs it; the import takes the apostrophe off again.
 */
const FORMULA_GUARD = /^'(?='*[=+\-@\t\r])/;

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
    errors.push({ line, field: 'customerNumber', message: 'is required' });
    valid = false;
  }
  if (!companyName) {
    errors.push({ line, field: 'companyName', message: 'is required' });
    valid = false;
  }
  const activeText = value('active')?.toLowerCase();
  const active = activeText === undefined ? true : BOOLEANS[activeText];
  if (active === undefined) {
    errors.push({ line, field: 'active', message: 'must be true or false' });
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
 * The API's errors of one refused chunk (fields like `[3].companyName`), as errors of the file's lines. An
 * error without a row (the whole body) is put on the chunk's first line.
 */
export function chunkErrors(
  chunk: readonly { line: number }[],
  errors: readonly { field: string; message: string }[],
  fallback: string,
): RowError[] {
  if (errors.length === 0) return [{ line: chunk[0]?.line ?? 0, field: 'row', message: fallback }];
  return errors.map((error) => {
    const match = /^\[(\d+)\]\.?(.*)$/.exec(error.field);
    const row = match ? chunk[Number(match[1])] : undefined;
    return {
      line: row?.line ?? chunk[0]?.line ?? 0,
      field: match?.[2] || error.field,
      message: error.message,
    };
  });
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
