import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Api } from '../api.js';
import { chunks, IMPORT_MAX_BYTES, type RowError } from '../logic/csv.js';
import { importChunk, inLineOrder, type PutAnswer, putAnswerOf, rowsWithErrors } from '../logic/import.js';
import { type ParsedReps, parseRepsCsv, REP_IMPORT_CHUNK_ROWS } from '../logic/reps-csv.js';
import { ImportErrorReport, plural } from './ImportCustomers.js';
import { SendInvitations } from './PendingInvitations.js';

interface Preview {
  fileName: string;
  parsed: ParsedReps;
  rowsInFile: number;
}

interface Progress {
  sent: number;
  imported: number;
  errors: RowError[];
  done: boolean;
}

type ReadyRow = ParsedReps['rows'][number];

/**
 * Reads a reps CSV, shows what it holds and adds the reps only when asked, as the customer import does: bulk adds
 * of at most 100 reps, one after the other (a bad row is reported by its line and never holds back the good ones),
 * with the invitations sent at once or held back for "Send invitations" (docs/console.md, "Sales reps CSV").
 */
export function ImportReps({
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
  const inviteId = useId();
  const [preview, setPreview] = useState<Preview | undefined>();
  const [progress, setProgress] = useState<Progress | undefined>();
  const [invite, setInvite] = useState(true);
  const running = progress !== undefined && !progress.done;

  const wait = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));

  const readFile = async (file: File) => {
    setProgress(undefined);
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
      });
      return;
    }
    const parsed = parseRepsCsv(await file.text());
    setPreview({
      fileName: file.name,
      parsed: { rows: parsed.rows, errors: inLineOrder(parsed.errors) },
      rowsInFile: parsed.rows.length + rowsWithErrors(parsed.errors),
    });
  };

  const importRows = async (ready: Preview, sendInvitations: boolean) => {
    onRunning(true);
    const put = async (rows: readonly ReadyRow[]): Promise<PutAnswer> =>
      putAnswerOf(
        await api.POST('/api/organizations/salesreps/bulk', {
          params: { query: { sendInvitations } },
          body: rows.map((row) => row.rep),
        }),
      );
    const state: Progress = { sent: 0, imported: 0, errors: [...ready.parsed.errors], done: false };
    setProgress({ ...state });
    for (const chunk of chunks(ready.parsed.rows, REP_IMPORT_CHUNK_ROWS)) {
      const result = await importChunk(chunk, put, wait);
      state.sent += chunk.length;
      state.imported += result.imported;
      state.errors = inLineOrder([...state.errors, ...result.errors]);
      setProgress({ ...state });
    }
    state.done = true;
    setProgress({ ...state });
    onRunning(false);
    await queryClient.invalidateQueries({ queryKey: ['reps'] });
    await queryClient.invalidateQueries({ queryKey: ['pending-invitations'] });
  };

  const errors = progress?.errors ?? preview?.parsed.errors ?? [];
  const headerRefused = preview?.parsed.errors.some((error) => error.line <= 1) ?? false;
  return (
    <div className="form">
      <p>
        Columns: firstName, lastName, email, repNumber (all required) and phoneNumber. Each row adds one rep,
        as "Add sales rep" does; a row whose email or rep number a rep of this organization has already is not
        imported.
      </p>
      <div>
        <label htmlFor={fileId}>CSV file</label>
        <input
          id={fileId}
          type="file"
          accept=".csv,text/csv"
          disabled={running}
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) void readFile(file);
          }}
        />
      </div>
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
      {preview && !progress && preview.parsed.rows.length > 0 && (
        <div>
          <input
            id={inviteId}
            type="checkbox"
            className="inline"
            checked={invite}
            onChange={(event) => setInvite(event.target.checked)}
          />
          <label htmlFor={inviteId} className="inline">
            Send the invitations now (otherwise later, with "Send invitations")
          </label>
        </div>
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
                )} not imported (${plural(progress.errors.length, 'error')}).${
                  invite || progress.imported === 0 ? '' : ' Their invitations have not been sent yet.'
                }`
              : `Sent ${progress.sent} of ${preview?.parsed.rows.length ?? 0} rows…`}
          </p>
        </>
      )}
      <ImportErrorReport errors={errors} fileName={preview?.fileName ?? 'reps.csv'} running={running} />
      <div className="buttons">
        {preview && !progress && preview.parsed.rows.length > 0 && (
          <button type="button" onClick={() => void importRows(preview, invite)}>
            Import {plural(preview.parsed.rows.length, 'rep')}
          </button>
        )}
        {progress?.done && !invite && progress.imported > 0 && <SendInvitations api={api} />}
        <button type="button" className="secondary" onClick={onClose} disabled={running}>
          {progress?.done ? 'Close' : 'Cancel'}
        </button>
      </div>
    </div>
  );
}
