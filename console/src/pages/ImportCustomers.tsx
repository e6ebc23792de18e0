import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { IMPORT_CHUNK_ROWS, parseCustomersCsv } from '../logic/csv.js';
import { type ImportRow, putAnswerOf, REP_CHECK_MAX, unknownRepNumbers } from '../logic/import.js';
import {
  CsvFileField,
  type ImportDialogProps,
  type ImportPreview,
  ImportReport,
  PreviewSummary,
  plural,
  previewOf,
  tooLarge,
  useChunkedImport,
} from './CsvImport.js';

const UNKNOWN_REPS_SHOWN = 20;

/** What the file holds, and the rep numbers in it that match no rep (with their lines; undefined when there were
 * too many to look up). */
interface Preview extends ImportPreview<ImportRow> {
  unknownReps: Map<string, number[]> | undefined;
}

/**
 * Reads a CSV file, shows what it holds (rows ready, rows with errors, rep numbers that match no rep) and imports
 * it only when asked: bulk PUTs of at most 1,000 rows, one after the other (importChunk: a bad row is reported and
 * never holds back the good ones of its chunk; docs/console.md). Errors are listed in line order and downloadable.
 */
export function ImportCustomers({ api, onRunning, onClose }: ImportDialogProps) {
  const queryClient = useQueryClient();
  const fileId = useId();
  const [checking, setChecking] = useState(false);
  const [preview, setPreview] = useState<Preview | undefined>();
  const { progress, running, run, reset } = useChunkedImport(onRunning);

  const put = async (rows: readonly ImportRow[]) =>
    putAnswerOf(await api.PUT('/api/customers', { body: rows.map((row) => row.customer) }));

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
    reset();
    setPreview(undefined);
    const refused = tooLarge(file);
    if (refused) {
      setPreview({ ...refused, unknownReps: new Map() });
      return;
    }
    setChecking(true);
    try {
      const parsed = parseCustomersCsv(await file.text());
      const unknownReps = await unknownRepNumbers(parsed.rows, repExists);
      setPreview({ ...previewOf(file.name, parsed), unknownReps });
    } finally {
      setChecking(false);
    }
  };

  const importRows = async (ready: Preview) => {
    await run(ready, put, IMPORT_CHUNK_ROWS);
    await queryClient.invalidateQueries({ queryKey: ['customers'] });
  };

  const headerRefused = preview?.parsed.errors.some((error) => error.line <= 1) ?? false;
  return (
    <div className="form">
      <p>
        Columns: customerNumber, companyName (both required), companyEmail, companyPhone, pricing, terms,
        active, repNumber, externalId. Each row replaces the whole customer, as the API's PUT does: its
        addresses, contacts and attributes, which the file does not hold, are cleared.
      </p>
      <CsvFileField id={fileId} disabled={running || checking} onFile={(file) => void readFile(file)} />
      {checking && <p role="status">Reading the file and checking its rep numbers…</p>}
      {preview && !progress && !headerRefused && <PreviewSummary preview={preview} />}
      {preview && !progress && preview.unknownReps === undefined && (
        <p className="warning">
          The rep numbers were not checked: the file names more than {REP_CHECK_MAX} different ones.
        </p>
      )}
      {preview && !progress && preview.unknownReps && preview.unknownReps.size > 0 && (
        <UnknownReps unknown={preview.unknownReps} />
      )}
      <ImportReport
        id={`${fileId}-progress`}
        preview={preview}
        progress={progress}
        running={running}
        defaultFileName="customers.csv"
      />
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
