import { useCallback, useEffect, useRef, useState } from 'react';
import { useLocation, useSearch } from 'wouter';

/**
 * A page's view kept in the URL's query (search, filters, sort, page, the open record), so that a reload, Back and
 * a shared link show the same view. A value equal to its default is left out of the URL. `set` adds a history
 * entry (Back returns to the view before it) unless `replace` is asked: typing in a search box replaces its entry,
 * so that Back does not step through every keystroke.
 */
export function useUrlState<Keys extends string>(
  defaults: Readonly<Record<Keys, string>>,
): [Record<Keys, string>, (changes: Partial<Record<Keys, string>>, options?: { replace?: boolean }) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const state = Object.fromEntries(
    Object.entries<string>(defaults).map(([key, fallback]) => [key, params.get(key) ?? fallback]),
  ) as Record<Keys, string>;
  const set = useCallback(
    (changes: Partial<Record<Keys, string>>, options: { replace?: boolean } = {}) => {
      const next = new URLSearchParams(window.location.search);
      for (const [key, value] of Object.entries<string | undefined>(changes)) {
        if (value === undefined || value === defaults[key as Keys]) next.delete(key);
        else next.set(key, value);
      }
      const query = next.toString();
      if (query === window.location.search.replace(/^\?/, '')) return;
      navigate(query ? `${location}?${query}` : location, { replace: options.replace ?? false });
    },
    [defaults, location, navigate],
  );
  return [state, set];
}

/**
 * A text box's value that follows the URL's (Back, a shared link) and writes to it once typing pauses, replacing
 * the history entry. Answers the typed value and its setter.
 */
export function useUrlText(
  value: string,
  write: (value: string) => void,
  ms = 250,
): [string, (value: string) => void] {
  const [typed, setTyped] = useState(value);
  // The value last written or read: a URL that moves to another (Back, a link) shows its value in the box.
  const [known, setKnown] = useState(value);
  if (value !== known) {
    setKnown(value);
    setTyped(value);
  }
  const writeRef = useRef(write);
  writeRef.current = write;
  useEffect(() => {
    const wanted = typed.trim();
    if (wanted === known) return;
    const timer = setTimeout(() => {
      setKnown(wanted);
      writeRef.current(wanted);
    }, ms);
    return () => clearTimeout(timer);
  }, [typed, known, ms]);
  return [typed, setTyped];
}
