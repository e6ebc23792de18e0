import { useState } from 'react';
import type { Api } from '../api.js';
import { chunks, IMPORT_MAX_BYTES, importErrorsCsv, type RowError } from '../logic/csv.js';
import { importChunk, inLineOrder, type PutAnswer, rowsWithErrors } from '../logic/import.js';
import { TableRegion } from '../ui/common.js';

const ERRORS_SHOWN = 500;

/** What the page gives an import dialog. */
export interface ImportDialogProps {
  api: Api;
  /** Told when the import starts and ends: the dialog cannot be closed meanwhile. */
  onRunning: (running: boolean) => void;
  onClose: () => void;
}

/** What a CSV file holds, read and checked before anything is written. */
export interface ImportPreview<Row> {
  fileName: string;
  parsed: { rows: Row[]; errors: RowError[] };
  /** The rows of the file (the header aside), sendable or not. */
  rowsInFile: number;
}

interface ImportProgress {
  sent: number;
  imported: number;
  errors: RowError[];
  done: boolean;
}

/** The preview of a file too large to read: nothing in it is imported. */
export function tooLarge(file: File): ImportPreview<never> | undefined {
  if (file.size <= IMPORT_MAX_BYTES) return undefined;
  return {
    fileName: file.name,
    parsed: {
      rows: [],
      errors: [
        { line: 0, field: 'file', message: 'The file is larger than 20 MB; split it into smaller files' },
      ],
    },
    rowsInFile: 0,
  };
}

/** The preview of a parsed file: its errors in line order, its rows counted with those that have errors. */
export function previewOf<Row>(
  fileName: string,
  parsed: { rows: Row[]; errors: RowError[] },
): ImportPreview<Row> {
  return {
    fileName,
    parsed: { rows: parsed.rows, errors: inLineOrder(parsed.errors) },
    rowsInFile: parsed.rows.length + rowsWithErrors(parsed.errors),
  };
}

const wait = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * An import of the rows of a preview in chunks, one request after the other (importChunk: a bad row is reported by
 * its line and never holds back the good ones of its chunk), and its progress; `onRunning` is told when it starts
 * and ends (the dialog cannot be closed meanwhile).
 */
export function useChunkedImport(onRunning: (running: boolean) => void) {
  const [progress, setProgress] = useState<ImportProgress | undefined>();
  const run = async <Row extends { line: number }>(
    ready: ImportPreview<Row>,
    put: (rows: readonly Row[]) => Promise<PutAnswer>,
    chunkRows: number,
  ) => {
    onRunning(true);
    const state: ImportProgress = { sent: 0, imported: 0, errors: [...ready.parsed.errors], done: false };
    setProgress({ ...state });
    for (const chunk of chunks(ready.parsed.rows, chunkRows)) {
      const result = await importChunk(chunk, put, wait);
      state.sent += chunk.length;
      state.imported += result.imported;
      state.errors = inLineOrder([...state.errors, ...result.errors]);
      setProgress({ ...state });
    }
    state.done = true;
    setProgress({ ...state });
    onRunning(false);
  };
  return {
    progress,
    running: progress !== undefined && !progress.done,
    run,
    reset: () => setProgress(undefined),
  };
}

/** The file input of an import dialog. */
export function CsvFileField(props: { id: string; disabled: boolean; onFile: (file: File) => void }) {
  return (
    <div>
      <label htmlFor={props.id}>CSV file</label>
      <input
        id={props.id}
        type="file"
        accept=".csv,text/csv"
        disabled={props.disabled}
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) props.onFile(file);
        }}
      />
    </div>
  );
}

/** What the file holds, before the import: rows ready, rows with errors, and that nothing is written yet. */
export function PreviewSummary({ preview }: { preview: ImportPreview<unknown> }) {
  return (
    <div role="status">
      <p>
        {preview.fileName}: {plural(preview.rowsInFile, 'row')}.{' '}
        <strong>{plural(preview.parsed.rows.length, 'row')} ready to import</strong>
        {preview.parsed.errors.length > 0 &&
          `; ${plural(rowsWithErrors(preview.parsed.errors), 'row')} with errors will not be imported`}
        . Nothing is written until you import.
      </p>
    </div>
  );
}

/**
 * The import's outcome: its progress bar and count, then what it did (`doneNote` follows the count once done), and
 * the rows not imported (those of the preview before the import).
 */
export function ImportReport(props: {
  id: string;
  preview: ImportPreview<unknown> | undefined;
  progress: ImportProgress | undefined;
  running: boolean;
  /** The error file's name without a preview. */
  defaultFileName: string;
  doneNote?: string;
}) {
  const { progress, preview } = props;
  return (
    <>
      {progress && (
        <>
          <label htmlFor={props.id}>Import progress</label>
          <progress id={props.id} max={Math.max(preview?.parsed.rows.length ?? 0, 1)} value={progress.sent} />
          <p role="status">
            {progress.done
              ? `Done: ${progress.imported} of ${plural(preview?.rowsInFile ?? 0, 'row')} imported; ${plural(
                  rowsWithErrors(progress.errors),
                  'row',
                )} not imported (${plural(progress.errors.length, 'error')}).${props.doneNote ?? ''}`
              : `Sent ${progress.sent} of ${preview?.parsed.rows.length ?? 0} rows…`}
          </p>
        </>
      )}
      <ImportErrorReport
        errors={progress?.errors ?? preview?.parsed.errors ?? []}
        fileName={preview?.fileName ?? props.defaultFileName}
        running={props.running}
      />
    </>
  );
}

/**
 * The rows not imported, in the order of the file (the first ERRORS_SHOWN), and "Download the errors (CSV)" with
 * all of them.
 */
function ImportErrorReport(props: { errors: readonly RowError[]; fileName: string; running: boolean }) {
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
