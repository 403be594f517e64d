import type { Config } from '../config.js';
import { openStore, type Store } from '../db/store.js';

export function openConfiguredStore(
  config: Config,
  onStatement?: (durationMs: number, failed: boolean) => void,
): Store {
  return openStore({
    onStatement,
    url: config.databaseUrl,
    ownerUrl: config.databaseOwnerUrl,
    sqliteSynchronous: config.sqliteSynchronous,
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
  });
}
