import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** The keys that move through the list, and where each goes from row `at` (`page` rows in view). */
const MOVES: Record<string, (at: number, page: number, count: number) => number> = {
  ArrowDown: (at) => at + 1,
  ArrowUp: (at) => at - 1,
  PageDown: (at, page) => at + page,
  PageUp: (at, page) => at - page,
  Home: () => 0,
  End: (_at, _page, count) => count - 1,
};

/**
 * A list of rows of one height where only the rows in view (and a few around) are in the DOM, so it scrolls
 * the same at row 10 or row 1,000,000. `onNearEnd` asks for the next page when the end of what is loaded
 * comes into view. Hand-written: fixed-height rows need little code, where a library would bring a React
 * compatibility layer.
 *
 * Keyboard: one row is in the tab order (`row(i, true)` must make it focusable, the others not); the arrow
 * keys, Page Up/Down, Home and End move the focus through the rows, scrolling them into view.
 */
export function VirtualList(props: {
  count: number;
  rowHeight: number;
  label: string;
  row: (index: number, inTabOrder: boolean) => ComponentChildren;
  onNearEnd: () => void;
}) {
  const { count, rowHeight } = props;
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const [active, setActive] = useState(0);
  const focusNext = useRef<number | undefined>(undefined);
  const measure = () => {
    const el = box.current;
    if (el) setView({ top: el.scrollTop, height: el.clientHeight });
  };
  useEffect(() => {
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);
  useEffect(() => {
    if (active >= count) setActive(0);
  }, [count]);
  const focusRow = (index: number) => {
    const target = box.current?.querySelector<HTMLElement>(
      `li[aria-posinset="${index + 1}"] :is(a, button, input)`,
    );
    target?.focus({ preventScroll: true });
    return Boolean(target);
  };
  // A row moved to that was not in the DOM yet takes the focus once it is rendered.
  useEffect(() => {
    if (focusNext.current !== undefined && focusRow(focusNext.current)) focusNext.current = undefined;
  });
  const overscan = 10;
  const first = Math.max(0, Math.floor(view.top / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + overscan);
  useEffect(() => {
    if (last >= count - overscan) props.onNearEnd();
  }, [last, count]);

  const rowOf = (target: EventTarget | null) => {
    const item = (target as HTMLElement | null)?.closest?.('li[aria-posinset]');
    return item ? Number(item.getAttribute('aria-posinset')) - 1 : undefined;
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const move = MOVES[event.key];
    const el = box.current;
    if (!move || !el || count === 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const page = Math.max(1, Math.floor(el.clientHeight / rowHeight) - 1);
    const at = rowOf(event.target);
    // From the list itself (no row focused yet), the first key goes to the first row in view.
    const to = Math.max(
      0,
      Math.min(count - 1, at === undefined ? Math.ceil(el.scrollTop / rowHeight) : move(at, page, count)),
    );
    if (to * rowHeight < el.scrollTop) el.scrollTop = to * rowHeight;
    else if ((to + 1) * rowHeight > el.scrollTop + el.clientHeight)
      el.scrollTop = (to + 1) * rowHeight - el.clientHeight;
    if (!focusRow(to)) focusNext.current = to;
    setActive(to);
    measure();
  };

  const rows = [];
  for (let i = first; i < last; i++)
    rows.push(
      <li
        key={i}
        style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}
        aria-setsize={-1}
        aria-posinset={i + 1}
      >
        {props.row(i, i === active)}
      </li>,
    );
  // The list itself is in the tab order only while the row that is has scrolled out of the DOM.
  const activeRendered = active >= first && active < last;
  return (
    <div
      class="virtual"
      ref={box}
      onScroll={measure}
      onKeyDown={onKeyDown}
      onFocusCapture={(e) => {
        const at = rowOf(e.target);
        if (at !== undefined) setActive(at);
      }}
      tabIndex={activeRendered ? -1 : 0}
      role="region"
      aria-label={props.label}
    >
      <ul style={{ height: `${count * rowHeight}px` }}>{rows}</ul>
    </div>
  );
}
