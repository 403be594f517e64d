import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A list of rows of one height where only the rows in view (and a few around) are in the DOM, so it scrolls
 * the same at row 10 or row 1,000,000. `onNearEnd` asks for the next page when the end of what is loaded
 * comes into view. Hand-written: fixed-height rows need ~40 lines, where a library would bring a React
 * compatibility layer.
 */
export function VirtualList(props: {
  count: number;
  rowHeight: number;
  label: string;
  row: (index: number) => ComponentChildren;
  onNearEnd: () => void;
}) {
  const { count, rowHeight } = props;
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const measure = () => {
    const el = box.current;
    if (el) setView({ top: el.scrollTop, height: el.clientHeight });
  };
  useEffect(() => {
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);
  const overscan = 10;
  const first = Math.max(0, Math.floor(view.top / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + overscan);
  useEffect(() => {
    if (last >= count - overscan) props.onNearEnd();
  }, [last, count]);
  const rows = [];
  for (let i = first; i < last; i++)
    rows.push(
      <li
        key={i}
        style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}
        aria-setsize={-1}
        aria-posinset={i + 1}
      >
        {props.row(i)}
      </li>,
    );
  return (
    <div class="virtual" ref={box} onScroll={measure} tabIndex={0} role="region" aria-label={props.label}>
      <ul style={{ height: `${count * rowHeight}px` }}>{rows}</ul>
    </div>
  );
}
