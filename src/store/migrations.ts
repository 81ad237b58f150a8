// Forward-only schema migrations, applied in order; `schema_version` in meta says how far a
// database has come. Never edit a shipped migration: add the next one.

export interface Migration {
  version: number;
  /** The date it was written, so the history reads in order. */
  date: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    date: '2026-11-24',
    sql: `
      CREATE TABLE targets (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,          -- the EAL file prefix: stable across restarts
        pid INTEGER,
        command TEXT,
        first_seen INTEGER NOT NULL,       -- ms since epoch
        last_seen INTEGER NOT NULL,
        alive INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        target_id INTEGER NOT NULL REFERENCES targets(id),
        scope TEXT NOT NULL,               -- process | stack | pool | machine
        name TEXT NOT NULL,
        UNIQUE (target_id, scope, name)
      );
      -- value NULL marks a gap (the target was gone at that tick).
      CREATE TABLE raw (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,
                        PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
      CREATE TABLE minute (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, min REAL, avg REAL, max REAL, n INTEGER NOT NULL,
                           PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
      CREATE TABLE hour (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, min REAL, avg REAL, max REAL, n INTEGER NOT NULL,
                         PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
      CREATE TABLE gaps (target_id INTEGER NOT NULL REFERENCES targets(id), start_ts INTEGER NOT NULL, end_ts INTEGER,
                         reason TEXT NOT NULL);
      CREATE TABLE snapshots (target_id INTEGER NOT NULL REFERENCES targets(id), ts INTEGER NOT NULL, json TEXT NOT NULL,
                              PRIMARY KEY (target_id, ts)) WITHOUT ROWID;
      CREATE INDEX raw_ts ON raw (ts);
      CREATE INDEX minute_ts ON minute (ts);
    `,
  },
];
