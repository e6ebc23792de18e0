import { Component, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { lastPage, pageRange } from '../logic/paging.js';
import { ApiProblem, plainMessage } from '../logic/problems.js';

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

/** A labelled text field with its hint and error beside it, tied to the field for assistive technology. */
export function Field(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  type?: string;
  required?: boolean;
  maxLength?: number;
  placeholder?: string;
  autoComplete?: string;
  hint?: string;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [props.hint && hintId, props.error && errorId].filter(Boolean).join(' ');
  return (
    <div>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        required={props.required}
        maxLength={props.maxLength}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? 'off'}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {props.hint && (
        <p id={hintId} className="muted hint">
          {props.hint}
        </p>
      )}
      {props.error && (
        <p id={errorId} className="field-error">
          {props.error}
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

/** The heading row of a sortable table: plain headings (`before`), a sorting one per column, plain ones (`after`). */
export function SortableHeadings<Field extends string>(props: {
  columns: readonly { label: string; field: Field }[];
  sortOn: Field;
  direction: 'asc' | 'desc';
  onSort: (field: Field, direction: 'asc' | 'desc') => void;
  after: readonly string[];
  /** A heading cell before the sortable ones (a selection column's). */
  before?: ReactNode;
}) {
  return (
    <thead>
      <tr>
        {props.before}
        {props.columns.map((column) => (
          <SortHeader
            key={column.field}
            label={column.label}
            field={column.field}
            sortOn={props.sortOn}
            direction={props.direction}
            onSort={props.onSort}
          />
        ))}
        {props.after.map((label) => (
          <th key={label} scope="col">
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A column heading that sorts: pressing it sorts by the column, pressing it again turns the direction. */
function SortHeader<Field extends string>(props: {
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

/**
 * A modal dialog (the browser's own <dialog>: focus is held inside, Escape closes it unless `dismissible` is
 * false). On closing, the focus goes back to what opened it, or to the page's content when that is gone.
 */
export function Dialog(props: {
  title: string;
  open: boolean;
  onClose: () => void;
  dismissible?: boolean;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const restoreFocus = () => {
    const target = opener.current;
    if (target instanceof HTMLElement && target.isConnected) target.focus();
    else document.getElementById('content')?.focus();
  };
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        if (props.dismissible === false) event.preventDefault();
      }}
      onClose={() => {
        props.onClose();
        restoreFocus();
      }}
    >
      <h2 id={titleId}>{props.title}</h2>
      {props.open && props.children}
    </dialog>
  );
}

/**
 * A row's actions in one menu: a button that opens a popover (the browser's top layer, so no table cell or
 * scrolling box clips it; Escape or a click outside closes it). Each item closes the menu before it acts, so the
 * focus is back on the button when a dialog it opens closes.
 */
export function ActionMenu(props: {
  label: string;
  items: readonly { label: string; danger?: boolean; disabled?: boolean; onSelect: () => void }[];
}) {
  const id = useId();
  const menu = useRef<HTMLDivElement>(null);
  return (
    <>
      <button type="button" className="secondary menu-button" popoverTarget={id}>
        Actions<span className="visually-hidden"> for {props.label}</span>
        <span aria-hidden="true"> ▾</span>
      </button>
      <div id={id} ref={menu} popover="auto" className="menu">
        <ul aria-label={`Actions for ${props.label}`}>
          {props.items.map((item) => (
            <li key={item.label}>
              <button
                type="button"
                className={item.danger ? 'menu-item danger' : 'menu-item'}
                disabled={item.disabled}
                onClick={() => {
                  menu.current?.hidePopover();
                  item.onSelect();
                }}
              >
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      </div>
    </>
  );
}

/** How long a notice that offers an action (an undo) stays while the pointer and the focus are elsewhere. */
const ACTION_NOTICE_MS = 8000;

/**
 * A polite live region that is always on the page, so that a screen reader announces each new text put into it
 * (one inserted together with its text is often not read). With `onDismiss`, a shown notice has a "Dismiss" button
 * and stays until it is pressed or the next notice replaces it: no timer takes it away before it is read. A notice
 * with an `action` (an undo) is the exception: it is dismissed after ACTION_NOTICE_MS, a delay that starts again
 * whenever the pointer or the keyboard focus leaves it, so it never vanishes under a person about to press it.
 */
export function Notice({
  text,
  onDismiss,
  action,
}: {
  text: string;
  onDismiss?: () => void;
  action?: { label: string; onAct: () => void };
}) {
  const box = useRef<HTMLDivElement>(null);
  const [held, setHeld] = useState(false);
  // The latest dismiss: the page's renders pass a new function each time, which must not restart the delay.
  const dismiss = useRef(onDismiss);
  dismiss.current = onDismiss;
  const timed = Boolean(text && action && onDismiss);
  // Held while the pointer is over it or the focus within it (listeners, not handlers: the box is no control).
  useEffect(() => {
    const element = box.current;
    if (!element || !timed) return;
    const update = () => setHeld(element.matches(':hover') || element.contains(document.activeElement));
    const later = () => setTimeout(update);
    const events = ['mouseenter', 'mouseleave', 'focusin', 'focusout'] as const;
    for (const name of events) element.addEventListener(name, later);
    update();
    return () => {
      for (const name of events) element.removeEventListener(name, later);
    };
  }, [timed]);
  useEffect(() => {
    if (!timed || held) return;
    const timer = setTimeout(() => dismiss.current?.(), ACTION_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [timed, held]);
  return (
    <div ref={box} className={text ? 'notice' : 'visually-hidden'}>
      <p role="status">{text}</p>
      {text && (action || onDismiss) && (
        <span className="notice-actions">
          {action && (
            <button type="button" className="dismiss" onClick={action.onAct}>
              {action.label}
            </button>
          )}
          {onDismiss && (
            <button type="button" className="dismiss" onClick={onDismiss}>
              Dismiss<span className="visually-hidden"> this notice</span>
            </button>
          )}
        </span>
      )}
    </div>
  );
}

/** The value once it has stopped changing for `ms`: a search asks the API once per pause, not per keystroke. */
export function useDebounced<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
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

/** Shows an error thrown while a page renders, with a way back, instead of a blank console. */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: undefined };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <div className="alert" role="alert">
        <p>
          This page failed:{' '}
          {this.state.error instanceof Error ? this.state.error.message : String(this.state.error)}
        </p>
        <button type="button" onClick={() => this.setState({ error: undefined })}>
          Try again
        </button>
      </div>
    );
  }
}
