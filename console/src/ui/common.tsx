import { type ReactNode, useEffect, useId, useRef } from 'react';
import { lastPage, pageRange } from '../logic/paging';
import { ApiProblem, plainMessage } from '../logic/problems';

/** An error a person must notice: announced by screen readers as it appears. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiProblem ? plainMessage(error.problem) : String(error);
  return (
    <p className="alert" role="alert">
      {text}
    </p>
  );
}

/** A labelled text field with its error beside it, tied to the field for assistive technology. */
export function Field(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  type?: string;
  required?: boolean;
  autoComplete?: string;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        required={props.required}
        autoComplete={props.autoComplete ?? 'off'}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errorId : undefined}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {props.error && (
        <p id={errorId} className="field-error">
          {props.label} {props.error}
        </p>
      )}
    </div>
  );
}

/** First, previous, next and last page, with "1–25 of 100,000" and a page size chooser. */
export function Pager(props: {
  pageNumber: number;
  pageSize: number;
  total: number;
  onPage: (pageNumber: number) => void;
  onPageSize: (pageSize: number) => void;
}) {
  const id = useId();
  const last = lastPage(props.pageSize, props.total);
  return (
    <nav className="pager" aria-label="Pages">
      <span className="range" aria-live="polite">
        {pageRange(props.pageNumber, props.pageSize, props.total)}
      </span>
      <label htmlFor={id}>Rows per page</label>
      <select
        id={id}
        value={props.pageSize}
        onChange={(event) => props.onPageSize(Number(event.target.value))}
      >
        {[10, 25, 50, 100].map((size) => (
          <option key={size} value={size}>
            {size}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="secondary"
        disabled={props.pageNumber <= 1}
        onClick={() => props.onPage(1)}
      >
        First
      </button>
      <button
        type="button"
        className="secondary"
        disabled={props.pageNumber <= 1}
        onClick={() => props.onPage(props.pageNumber - 1)}
      >
        Previous
      </button>
      <button
        type="button"
        className="secondary"
        disabled={props.pageNumber >= last}
        onClick={() => props.onPage(props.pageNumber + 1)}
      >
        Next
      </button>
      <button
        type="button"
        className="secondary"
        disabled={props.pageNumber >= last}
        onClick={() => props.onPage(last)}
      >
        Last
      </button>
    </nav>
  );
}

/** A column heading that sorts: pressing it sorts by the column, pressing it again turns the direction. */
export function SortHeader<Field extends string>(props: {
  label: string;
  field: Field;
  sortOn: Field;
  direction: 'asc' | 'desc';
  onSort: (field: Field, direction: 'asc' | 'desc') => void;
}) {
  const active = props.sortOn === props.field;
  const next = active && props.direction === 'asc' ? 'desc' : 'asc';
  return (
    <th scope="col" aria-sort={active ? (props.direction === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort" onClick={() => props.onSort(props.field, next)}>
        {props.label}
        <span aria-hidden="true">{active ? (props.direction === 'asc' ? ' ▲' : ' ▼') : ''}</span>
      </button>
    </th>
  );
}

/** A modal dialog (the browser's own <dialog>: focus is held inside, Escape closes it). */
export function Dialog(props: { title: string; open: boolean; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={props.onClose}>
      <h2 id={titleId}>{props.title}</h2>
      {props.open && props.children}
    </dialog>
  );
}

/** A whole-screen message: signing in, access ended, a failure, with what the person can do next. */
export function StatusPage(props: { title: string; children: ReactNode }) {
  return (
    <main className="status-page">
      <h1>{props.title}</h1>
      {props.children}
    </main>
  );
}

/**
 * The box a wide table scrolls in on a narrow screen: a named region that takes the keyboard focus, so that it can
 * be scrolled without a mouse.
 */
export function TableRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1)
    <section className="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
