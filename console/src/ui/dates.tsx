// Dates in one format everywhere, with their time zone; or relative, with the exact time on hover.

const EXACT = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });
const DAY_AND_YEAR = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });

/** "7 Dec 2026, 12:54 UTC": the console's one format of a moment, in the browser's time zone, which it names. */
export function exactTime(iso: string): string {
  return EXACT.format(new Date(iso));
}

/** "14 Dec" this year, "14 Dec 2027" another: a day, for a date that is about the day only. */
export function shortDay(iso: string, now = new Date()): string {
  const date = new Date(iso);
  return (date.getFullYear() === now.getFullYear() ? DAY : DAY_AND_YEAR).format(date);
}

/** "just now", "5 min ago", "2 h ago", "3 days ago", then the day: how long ago, roughly. */
function timeAgo(iso: string, now = new Date()): string {
  const minutes = Math.floor((now.getTime() - new Date(iso).getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days < 30) return `${days} ${days === 1 ? 'day' : 'days'} ago`;
  return shortDay(iso, now);
}

/** A moment in the console's one format. */
export function Time({ at }: { at: string }) {
  return <time dateTime={at}>{exactTime(at)}</time>;
}

/** A moment said relatively ("2 h ago"), the exact time on hover (and to assistive technology, as its title). */
export function TimeAgo({ at }: { at: string }) {
  return (
    <time dateTime={at} title={exactTime(at)}>
      {timeAgo(at)}
    </time>
  );
}
