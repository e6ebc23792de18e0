import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Api } from '../api.js';
import { chunks, IMPORT_MAX_BYTES, parseCustomersCsv, type RowError } from '../logic/csv.js';
import { type ImportRow, importChunk, type PutAnswer } from '../logic/import.js';
import { isProblem } from '../logic/problems.js';
import { TableRegion } from '../ui/common.js';

const ERRORS_SHOWN = 500;

interface Progress {
  sent: number;
  total: number;
  imported: number;
  errors: RowError[];
  done: boolean;
}

/**
 * Reads a CSV file and sends it as bulk PUTs of at most 1,000 rows, one after the other (importChunk: a bad row is
 * reported and never holds back the good ones of its chunk; docs/console.md).
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
  const [progress, setProgress] = useState<Progress | undefined>();
  const [running, setRunningState] = useState(false);
  const setRunning = (value: boolean) => {
    setRunningState(value);
    onRunning(value);
  };

  const put = async (rows: readonly ImportRow[]): Promise<PutAnswer> => {
    const result = await api.PUT('/api/customers', { body: rows.map((row) => row.customer) });
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
  };
  const wait = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));

  const importFile = async (file: File) => {
    if (file.size > IMPORT_MAX_BYTES) {
      setProgress({
        sent: 0,
        total: 0,
        imported: 0,
        errors: [{ line: 0, field: 'file', message: 'is larger than 20 MB; split it into smaller files' }],
        done: true,
      });
      return;
    }
    setRunning(true);
    const parsed = parseCustomersCsv(await file.text());
    const state: Progress = {
      sent: 0,
      total: parsed.rows.length,
      imported: 0,
      errors: [...parsed.errors],
      done: false,
    };
    setProgress({ ...state });
    for (const chunk of chunks(parsed.rows)) {
      const result = await importChunk(chunk, put, wait);
      state.sent += chunk.length;
      state.imported += result.imported;
      state.errors.push(...result.errors);
      setProgress({ ...state });
    }
    state.done = true;
    setProgress({ ...state });
    setRunning(false);
    await queryClient.invalidateQueries({ queryKey: ['customers'] });
  };

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
          disabled={running}
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) void importFile(file);
          }}
        />
      </div>
      {progress && (
        <>
          <label htmlFor={`${fileId}-progress`}>Import progress</label>
          <progress id={`${fileId}-progress`} max={Math.max(progress.total, 1)} value={progress.sent} />
          <p role="status">
            {progress.done
              ? `Done: ${progress.imported} of ${progress.total} rows imported, ${plural(progress.errors.length, 'error')}.`
              : `Sent ${progress.sent} of ${progress.total} rows…`}
          </p>
          {progress.errors.length > 0 && (
            <TableRegion label="Rows not imported">
              <table>
                <caption>Rows not imported</caption>
                <thead>
                  <tr>
                    <th scope="col">Line</th>
                    <th scope="col">Field</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {progress.errors.slice(0, ERRORS_SHOWN).map((error) => (
                    <tr key={`${error.line}:${error.field}:${error.message}`}>
                      <td>{error.line}</td>
                      <td>{error.field}</td>
                      <td>{error.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {progress.errors.length > ERRORS_SHOWN && (
                <p>and {progress.errors.length - ERRORS_SHOWN} more errors not shown.</p>
              )}
            </TableRegion>
          )}
        </>
      )}
      <div className="buttons">
        <button type="button" className="secondary" onClick={onClose} disabled={running}>
          Close
        </button>
      </div>
    </div>
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
