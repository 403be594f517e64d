import type { Config } from '../config.js';
import { openStore, type Store } from '../db/store.js';

export function openConfiguredStore(config: Config): Store {
  return openStore({
    url: config.databaseUrl,
    ownerUrl: config.databaseOwnerUrl,
    sqliteSynchronous: config.sqliteSynchronous,
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
  });
}
