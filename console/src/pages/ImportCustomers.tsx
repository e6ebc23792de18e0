import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Api } from '../api.js';
import {
  chunks,
  IMPORT_MAX_BYTES,
  importErrorsCsv,
  type ParsedCustomers,
  parseCustomersCsv,
  type RowError,
} from '../logic/csv.js';
import {
  type ImportRow,
  importChunk,
  inLineOrder,
  type PutAnswer,
  putAnswerOf,
  REP_CHECK_MAX,
  rowsWithErrors,
  unknownRepNumbers,
} from '../logic/import.js';
import { TableRegion } from '../ui/common.js';

const ERRORS_SHOWN = 500;
const UNKNOWN_REPS_SHOWN = 20;

/** What the file holds, read and checked before anything is written. */
interface Preview {
  fileName: string;
  parsed: ParsedCustomers;
  /** The rows of the file (the header aside), sendable or not. */
  rowsInFile: number;
  /** Rep numbers that match no rep, with their lines; undefined when there were too many to look up. */
  unknownReps: Map<string, number[]> | undefined;
}

interface Progress {
  sent: number;
  imported: number;
  errors: RowError[];
  done: boolean;
}

/**
 * Reads a CSV file, shows what it holds (rows ready, rows with errors, rep numbers that match no rep) and imports
 * it only when asked: bulk PUTs of at most 1,000 rows, one after the other (importChunk: a bad row is reported and
 * never holds back the good ones of its chunk; docs/console.md). Errors are listed in line order and downloadable.
 */
export function ImportCustomers({
  api,
  onRunning,
  onClose,
}: {
  api: Api;
  onRunning: (running: boolean) => void;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const fileId = useId();
  const [checking, setChecking] = useState(false);
  const [preview, setPreview] = useState<Preview | undefined>();
  const [progress, setProgress] = useState<Progress | undefined>();
  const running = progress !== undefined && !progress.done;

  const put = async (rows: readonly ImportRow[]): Promise<PutAnswer> =>
    putAnswerOf(await api.PUT('/api/customers', { body: rows.map((row) => row.customer) }));
  const wait = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));

  /** Whether a rep has this number: the reps search matches the start of a rep number, so the exact one is on
   * its first page, sorted by rep number. */
  const repExists = async (repNumber: string) => {
    const result = await api.GET('/api/organizations/salesreps', {
      params: { query: { search: repNumber, sortOn: 'RepNumber', pageSize: 100 } },
    });
    // A number the API could not be asked about is not flagged: the warning is for numbers known to be unknown.
    if (result.error !== undefined || !result.data) return true;
    return result.data.some((rep) => rep.repNumber === repNumber);
  };

  const readFile = async (file: File) => {
    setProgress(undefined);
    setPreview(undefined);
    if (file.size > IMPORT_MAX_BYTES) {
      setPreview({
        fileName: file.name,
        parsed: {
          rows: [],
          errors: [
            { line: 0, field: 'file', message: 'The file is larger than 20 MB; split it into smaller files' },
          ],
        },
        rowsInFile: 0,
        unknownReps: new Map(),
      });
      return;
    }
    setChecking(true);
    try {
      const parsed = parseCustomersCsv(await file.text());
      const unknownReps = await unknownRepNumbers(parsed.rows, repExists);
      setPreview({
        fileName: file.name,
        parsed: { rows: parsed.rows, errors: inLineOrder(parsed.errors) },
        rowsInFile: parsed.rows.length + rowsWithErrors(parsed.errors),
        unknownReps,
      });
    } finally {
      setChecking(false);
    }
  };

  const importRows = async (ready: Preview) => {
    onRunning(true);
    const state: Progress = { sent: 0, imported: 0, errors: [...ready.parsed.errors], done: false };
    setProgress({ ...state });
    for (const chunk of chunks(ready.parsed.rows)) {
      const result = await importChunk(chunk, put, wait);
      state.sent += chunk.length;
      state.imported += result.imported;
      state.errors = inLineOrder([...state.errors, ...result.errors]);
      setProgress({ ...state });
    }
    state.done = true;
    setProgress({ ...state });
    onRunning(false);
    await queryClient.invalidateQueries({ queryKey: ['customers'] });
  };

  const errors = progress?.errors ?? preview?.parsed.errors ?? [];
  const headerRefused = preview?.parsed.errors.some((error) => error.line <= 1) ?? false;
  return (
    <div className="form">
      <p>
        Columns: customerNumber, companyName (both required), companyEmail, companyPhone, pricing, terms,
        active, repNumber, externalId. Each row replaces the whole customer, as the API's PUT does: its
        addresses, contacts and attributes, which the file does not hold, are cleared.
      </p>
      <div>
        <label htmlFor={fileId}>CSV file</label>
        <input
          id={fileId}
          type="file"
          accept=".csv,text/csv"
          disabled={running || checking}
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) void readFile(file);
          }}
        />
      </div>
      {checking && <p role="status">Reading the file and checking its rep numbers…</p>}
      {preview && !progress && !headerRefused && (
        <div role="status">
          <p>
            {preview.fileName}: {plural(preview.rowsInFile, 'row')}.{' '}
            <strong>{plural(preview.parsed.rows.length, 'row')} ready to import</strong>
            {preview.parsed.errors.length > 0 &&
              `; ${plural(rowsWithErrors(preview.parsed.errors), 'row')} with errors will not be imported`}
            . Nothing is written until you import.
          </p>
        </div>
      )}
      {preview && !progress && preview.unknownReps === undefined && (
        <p className="warning">
          The rep numbers were not checked: the file names more than {REP_CHECK_MAX} different ones.
        </p>
      )}
      {preview && !progress && preview.unknownReps && preview.unknownReps.size > 0 && (
        <UnknownReps unknown={preview.unknownReps} />
      )}
      {progress && (
        <>
          <label htmlFor={`${fileId}-progress`}>Import progress</label>
          <progress
            id={`${fileId}-progress`}
            max={Math.max(preview?.parsed.rows.length ?? 0, 1)}
            value={progress.sent}
          />
          <p role="status">
            {progress.done
              ? `Done: ${progress.imported} of ${plural(preview?.rowsInFile ?? 0, 'row')} imported; ${plural(
                  rowsWithErrors(progress.errors),
                  'row',
                )} not imported (${plural(progress.errors.length, 'error')}).`
              : `Sent ${progress.sent} of ${preview?.parsed.rows.length ?? 0} rows…`}
          </p>
        </>
      )}
      <ImportErrorReport errors={errors} fileName={preview?.fileName ?? 'customers.csv'} running={running} />
      <div className="buttons">
        {preview && !progress && preview.parsed.rows.length > 0 && (
          <button type="button" onClick={() => void importRows(preview)}>
            Import {plural(preview.parsed.rows.length, 'row')}
          </button>
        )}
        <button type="button" className="secondary" onClick={onClose} disabled={running}>
          {progress?.done ? 'Close' : 'Cancel'}
        </button>
      </div>
    </div>
  );
}

/** The rep numbers that match no rep: imported all the same, the customers belong to no rep until one has it. */
function UnknownReps({ unknown }: { unknown: Map<string, number[]> }) {
  const rows = [...unknown.values()].reduce((sum, lines) => sum + lines.length, 0);
  return (
    <div className="warning">
      <p>
        {plural(rows, 'row')} name a rep number that matches no sales rep. They can be imported; their
        customers belong to no rep until a rep has that number.
      </p>
      <ul>
        {[...unknown].slice(0, UNKNOWN_REPS_SHOWN).map(([repNumber, lines]) => (
          <li key={repNumber}>
            {repNumber}: {lines.length === 1 ? 'line' : 'lines'} {lines.slice(0, 10).join(', ')}
            {lines.length > 10 ? ` and ${lines.length - 10} more` : ''}
          </li>
        ))}
      </ul>
      {unknown.size > UNKNOWN_REPS_SHOWN && <p>and {unknown.size - UNKNOWN_REPS_SHOWN} more rep numbers.</p>}
    </div>
  );
}

/**
 * The rows not imported, in the order of the file (the first ERRORS_SHOWN), and "Download the errors (CSV)" with
 * all of them.
 */
export function ImportErrorReport(props: {
  errors: readonly RowError[];
  fileName: string;
  running: boolean;
}) {
  const { errors } = props;
  if (errors.length === 0) return null;
  return (
    <>
      <TableRegion label="Rows not imported">
        <table>
          <caption>Rows not imported, in the order of the file</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Column</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {errors.slice(0, ERRORS_SHOWN).map((error) => (
              <tr key={`${error.line}:${error.field}:${error.message}`}>
                <td>{error.line}</td>
                <td>{error.field}</td>
                <td>{error.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {errors.length > ERRORS_SHOWN && (
          <p>and {errors.length - ERRORS_SHOWN} more errors, all in the downloaded file.</p>
        )}
      </TableRegion>
      <p>
        <button
          type="button"
          className="secondary"
          disabled={props.running}
          onClick={() => downloadErrors(errors, props.fileName)}
        >
          Download the errors (CSV)
        </button>
      </p>
    </>
  );
}

function downloadErrors(errors: readonly RowError[], fileName: string) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([importErrorsCsv(errors)], { type: 'text/csv' }));
  link.download = `${fileName.replace(/\.csv$/i, '')}-errors.csv`;
  link.click();
  // Revoked once the download has taken the file.
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
