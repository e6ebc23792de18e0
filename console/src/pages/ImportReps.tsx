import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { putAnswerOf } from '../logic/import.js';
import { type ParsedReps, parseRepsCsv, REP_IMPORT_CHUNK_ROWS } from '../logic/reps-csv.js';
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
import { SendInvitations } from './PendingInvitations.js';

type ReadyRow = ParsedReps['rows'][number];

/**
 * Reads a reps CSV, shows what it holds and adds the reps only when asked, as the customer import does: bulk adds
 * of at most 100 reps, one after the other (a bad row is reported by its line and never holds back the good ones),
 * with the invitations sent at once or held back for "Send invitations" (docs/console.md, "Sales reps CSV").
 */
export function ImportReps({ api, onRunning, onClose }: ImportDialogProps) {
  const queryClient = useQueryClient();
  const fileId = useId();
  const inviteId = useId();
  const [preview, setPreview] = useState<ImportPreview<ReadyRow> | undefined>();
  const [invite, setInvite] = useState(true);
  const { progress, running, run, reset } = useChunkedImport(onRunning);

  const readFile = async (file: File) => {
    reset();
    setPreview(tooLarge(file) ?? previewOf(file.name, parseRepsCsv(await file.text())));
  };

  const importRows = async (ready: ImportPreview<ReadyRow>, sendInvitations: boolean) => {
    const put = async (rows: readonly ReadyRow[]) =>
      putAnswerOf(
        await api.POST('/api/organizations/salesreps/bulk', {
          params: { query: { sendInvitations } },
          body: rows.map((row) => row.rep),
        }),
      );
    await run(ready, put, REP_IMPORT_CHUNK_ROWS);
    await queryClient.invalidateQueries({ queryKey: ['reps'] });
    await queryClient.invalidateQueries({ queryKey: ['pending-invitations'] });
  };

  const headerRefused = preview?.parsed.errors.some((error) => error.line <= 1) ?? false;
  return (
    <div className="form">
      <p>
        Columns: firstName, lastName, email, repNumber (all required) and phoneNumber. Each row adds one rep,
        as "Add sales rep" does; a row whose email or rep number a rep of this organization has already is not
        imported.
      </p>
      <CsvFileField id={fileId} disabled={running} onFile={(file) => void readFile(file)} />
      {preview && !progress && !headerRefused && <PreviewSummary preview={preview} />}
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
      <ImportReport
        id={`${fileId}-progress`}
        preview={preview}
        progress={progress}
        running={running}
        defaultFileName="reps.csv"
        {...(invite || !progress || progress.imported === 0
          ? {}
          : { doneNote: ' Their invitations have not been sent yet.' })}
      />
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
