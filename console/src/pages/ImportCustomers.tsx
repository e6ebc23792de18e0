import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Api } from '../api';
import {
  type CustomerRow,
  chunkErrors,
  chunks,
  IMPORT_MAX_BYTES,
  parseCustomersCsv,
  type RowError,
} from '../logic/csv';
import { isProblem } from '../logic/problems';
import { TableRegion } from '../ui/common';

interface Progress {
  sent: number;
  total: number;
  imported: number;
  errors: RowError[];
  done: boolean;
}

/**
 * Reads a CSV file and sends it as bulk PUTs of at most 1,000 rows, one after the other. Each PUT is all or none;
 * when the API refuses a chunk for some of its rows, those rows are reported and the rest of the chunk is sent
 * once more without them, so a bad row never holds back the good ones (docs/console.md).
 */
export function ImportCustomers({ api, onClose }: { api: Api; onClose: () => void }) {
  const queryClient = useQueryClient();
  const fileId = useId();
  const [progress, setProgress] = useState<Progress | undefined>();
  const [running, setRunning] = useState(false);

  /** Sends rows as one PUT: its errors by line, and whether every error named a row (a 400 of bad rows). */
  const send = async (rows: { line: number; customer: CustomerRow }[]) => {
    const result = await api.PUT('/api/customers', { body: rows.map((row) => row.customer) });
    if (result.error === undefined) return { errors: [], byRow: false };
    const problem = isProblem(result.error) ? result.error : undefined;
    const apiErrors = problem?.errors ?? [];
    return {
      errors: chunkErrors(rows, apiErrors, problem?.detail ?? 'The rows were not imported.'),
      byRow:
        problem?.status === 400 &&
        !problem.omittedErrors &&
        apiErrors.length > 0 &&
        apiErrors.every((error) => /^\[\d+\]/.test(error.field)),
    };
  };

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
      const first = await send(chunk);
      let errors = first.errors;
      let imported = errors.length === 0 ? chunk.length : 0;
      const badLines = new Set(errors.map((error) => error.line));
      const rest = chunk.filter((row) => !badLines.has(row.line));
      if (first.byRow && rest.length > 0) {
        const again = await send(rest);
        if (again.errors.length === 0) imported = rest.length;
        else errors = [...errors, ...again.errors];
      }
      state.sent += chunk.length;
      state.imported += imported;
      state.errors.push(...errors);
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
        active, repNumber, externalId. Each row replaces the whole customer, as the API's PUT does.
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
              ? `Done: ${progress.imported} of ${progress.total} rows imported, ${progress.errors.length} errors.`
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
                  {progress.errors.slice(0, 500).map((error) => (
                    <tr key={`${error.line}:${error.field}:${error.message}`}>
                      <td>{error.line}</td>
                      <td>{error.field}</td>
                      <td>{error.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
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
