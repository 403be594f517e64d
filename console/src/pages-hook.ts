import { useEffect, useRef, useState } from 'preact/hooks';

/** A list read page by page by cursor: the first page when `inputs` change, the next on `more()`. */
export function usePages<T>(
  load: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>,
  inputs: unknown[],
) {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState<unknown>();
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const round = useRef(0);
  const fetchPage = async (from: string | undefined, replace: boolean) => {
    const mine = ++round.current;
    try {
      const page = await load(from);
      if (mine !== round.current) return;
      setItems((old) => (replace ? page.items : [...old, ...page.items]));
      setCursor(page.next_cursor);
      setError(undefined);
    } catch (e) {
      if (mine === round.current) setError(e);
    }
  };
  const reload = () => fetchPage(undefined, true);
  useEffect(() => {
    void reload();
  }, inputs);
  return {
    items,
    error,
    hasMore: typeof cursor === 'string',
    more: () => (typeof cursor === 'string' ? fetchPage(cursor, false) : Promise.resolve()),
    reload,
  };
}
