import type { operations } from '../../../client/index.js';
import { FORMULA_GUARD, type RowError, readCsvRecords, repeatedMessage } from './csv.js';
import { plainFieldMessage } from './problems.js';

/** The columns of a reps CSV file: a rep as the API's PUT takes one (docs/console.md, "Sales reps CSV"). */
const REP_COLUMNS = ['firstName', 'lastName', 'email', 'phoneNumber', 'repNumber'] as const;
type RepColumn = (typeof REP_COLUMNS)[number];
const REQUIRED: readonly RepColumn[] = ['firstName', 'lastName', 'email', 'repNumber'];
const LABELS: Record<RepColumn, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email',
  phoneNumber: 'Phone number',
  repNumber: 'Rep number',
};

/** The most reps one bulk add takes (the API's limit). */
export const REP_IMPORT_CHUNK_ROWS = 100;

type RepRow = operations['addSalesReps']['requestBody']['content']['application/json'][number];

export interface ParsedReps {
  rows: { line: number; rep: RepRow }[];
  errors: RowError[];
}

/**
 * Reads a reps CSV. A row the file itself gets wrong (a missing value, the email (in any letter case) or rep number
 * of an earlier row) is reported by its line and never sent; the rest is checked by the API, whose errors come back
 * per row.
 */
export function parseRepsCsv(text: string): ParsedReps {
  const rows: ParsedReps['rows'] = [];
  const firstEmail = new Map<string, number>();
  const firstNumber = new Map<string, number>();
  const errors = readCsvRecords(
    text,
    { columns: REP_COLUMNS, required: REQUIRED },
    (record, line, errors) => {
      const value = (column: RepColumn): string | undefined => {
        const cell = record[column]?.trim().replace(FORMULA_GUARD, '');
        return cell === undefined || cell === '' ? undefined : cell;
      };
      const missing = REQUIRED.filter((column) => value(column) === undefined);
      for (const column of missing) {
        errors.push({ line, field: column, message: plainFieldMessage(LABELS[column], 'is required') });
      }
      const [firstName, lastName, email, repNumber] = REQUIRED.map(value);
      if (!firstName || !lastName || !email || !repNumber) return;
      const emailKey = email.toLowerCase();
      const earlierEmail = firstEmail.get(emailKey);
      const earlierNumber = firstNumber.get(repNumber);
      if (earlierEmail !== undefined) {
        errors.push({ line, field: 'email', message: repeatedMessage(line, earlierEmail, 'email') });
      }
      if (earlierNumber !== undefined) {
        errors.push({
          line,
          field: 'repNumber',
          message: repeatedMessage(line, earlierNumber, 'rep number'),
        });
      }
      if (earlierEmail !== undefined || earlierNumber !== undefined) return;
      firstEmail.set(emailKey, line);
      firstNumber.set(repNumber, line);
      const phoneNumber = value('phoneNumber');
      rows.push({
        line,
        rep: { firstName, lastName, email, repNumber, ...(phoneNumber ? { phoneNumber } : {}) },
      });
    },
  );
  return { rows, errors };
}
