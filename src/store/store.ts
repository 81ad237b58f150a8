// The history: samples per target and series in SQLite (WAL), raw for hours, then per-minute
// and per-hour min/avg/max, each tier with its own retention. The only module with SQL.

import Database from 'better-sqlite3';
import { closeSync, ftruncateSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { highestPoint } from '../model/peaks.js';
import { isDue, parseStat } from '../collect/process.js';
import { MIGRATIONS } from './migrations.js';
import { GzmemError, ExitCode, errorMessage } from '../errors.js';

export const RAW_RETENTION_MS = 6 * 3600_000;
export const MINUTE_RETENTION_MS = 14 * 24 * 3600_000;
export const HOUR_RETENTION_MS = 400 * 24 * 3600_000;
const MINUTE = 60_000;
const HOUR = 3600_000;

export type Scope = 'process' | 'stack' | 'pool' | 'pool_peak' | 'ring_peak' | 'calls' | 'machine';

/** One tick of one target: values by scope and series name (null = unknown at that tick). */
export interface TargetSample {
  key: string;
  pid: number;
  command: string;
  values: Partial<Record<Scope, Record<string, number | null>>>;
  /** The whole snapshot, kept only when the recorder is asked to. */
  snapshotJson?: string;
}

export interface TargetRow {
  key: string;
  pid: number | null;
  command: string | null;
  alive: boolean;
  firstSeen: number;
  lastSeen: number;
}

export interface SeriesQuery {
  key: string;
  scope: Scope;
  from: number;
  to: number;
  maxPoints: number;
}

export interface SeriesResult {
  resolution: 'raw' | 'minute' | 'hour';
  /** Bucket start times, ms. */
  ts: number[];
  series: { name: string; values: (number | null)[] }[];
  peaks: { name: string; ts: number; value: number }[];
}

export interface Retention {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
}

export interface Store {
  path: string;
  /**
   * Records one tick. A target that was alive but whose pid changed, or whose last sample is older
   * than maxSilenceMs (the recorder was not running), gets a closed gap first, so no line is drawn
   * across the time nothing was recorded.
   */
  record(ts: number, samples: TargetSample[], maxSilenceMs?: number): void;
  /** Records several ticks, oldest first, in one commit (or one journal write). */
  recordTicks(ticks: { ts: number; samples: TargetSample[] }[], maxSilenceMs?: number): void;
  /** Marks targets not seen at `ts` as gone, with a gap row and a null sample to break their lines. */
  markGone(ts: number, keys: string[], reason: string): void;
  targets(): TargetRow[];
  gaps(key: string): { start: number; end: number | null; reason: string }[];
  /** The newest whole snapshot kept for the target (recorded with --keep-snapshots), as JSON. */
  latestSnapshot(key: string): string | undefined;
  query(q: SeriesQuery): SeriesResult;
  /** Rolls raw samples into minutes and minutes into hours, then drops what is past retention. */
  maintain(now: number): void;
  counts(): { raw: number; minute: number; hour: number; snapshots: number };
  close(): void;
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  const current = row ? Number(row.value) : 0;
  const latest = MIGRATIONS.at(-1)!.version;
  if (current > latest)
    throw new GzmemError(`database schema version ${current} is newer than this gzmem (${latest})`, ExitCode.unsupported);
  for (const m of MIGRATIONS.filter((x) => x.version > current)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(m.version));
    })();
  }
}

export interface WriterOptions {
  /**
   * A writer faster than once a second appends each tick to a journal file beside the database
   * (one write) and commits the ticks to SQLite together this often: one commit rewrites a page
   * per series (a tick of 30 series was 80 writes). A journal left by a writer that died is
   * replayed by whoever opens the database next, so a kill still loses at most the tick it hit.
   */
  commitEveryMs?: number;
}

/** SQLite's own default page cache (KiB). */
const CACHE_KIB = 2000;

export function openStore(
  path: string,
  retention: Retention = { rawMs: RAW_RETENTION_MS, minuteMs: MINUTE_RETENTION_MS, hourMs: HOUR_RETENTION_MS },
  writer: WriterOptions = {},
): Store {
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // better-sqlite3 builds SQLite with a 16 MB page cache; a recorder that appends all day would
    // fill it and hold it. Its writes touch the newest pages only, and queries read an index.
    db.pragma(`cache_size = -${CACHE_KIB}`);
    // A statement in a transaction of several keeps the pages it changes in a statement journal,
    // a temporary file by default: some 120 writes per commit of 10 ticks. In memory, none.
    db.pragma('temp_store = MEMORY');
    migrate(db);
  } catch (err) {
    if (err instanceof GzmemError) throw err;
    throw new GzmemError(`cannot open database ${path}: ${errorMessage(err)}`, ExitCode.runtime);
  }

  const upsertTarget = db.prepare(`
    INSERT INTO targets (key, pid, command, first_seen, last_seen, alive) VALUES (@key, @pid, @command, @ts, @ts, 1)
    ON CONFLICT (key) DO UPDATE SET pid = @pid, command = @command, last_seen = @ts, alive = 1`);
  const targetId = db.prepare('SELECT id, alive, pid, last_seen FROM targets WHERE key = ?');
  const insertGap = db.prepare('INSERT INTO gaps (target_id, start_ts, end_ts, reason) VALUES (?, ?, ?, ?)');
  const seriesOfTarget = db.prepare('SELECT id FROM series WHERE target_id = ?');
  /** A null at ts in every series of the target: the break a chart draws. */
  const breakLines = (tid: number, ts: number) => {
    for (const s of seriesOfTarget.all(tid) as { id: number }[]) insertRaw.run(s.id, ts, null);
  };
  const closeGap = db.prepare('UPDATE gaps SET end_ts = ? WHERE target_id = ? AND end_ts IS NULL');
  const seriesId = db.prepare('SELECT id FROM series WHERE target_id = ? AND scope = ? AND name = ?');
  const insertSeries = db.prepare('INSERT INTO series (target_id, scope, name) VALUES (?, ?, ?)');
  const insertRaw = db.prepare('INSERT OR REPLACE INTO raw (series_id, ts, value) VALUES (?, ?, ?)');
  const insertSnapshot = db.prepare('INSERT OR REPLACE INTO snapshots (target_id, ts, json) VALUES (?, ?, ?)');
  const seriesCache = new Map<string, number>();
  // Statements used at every tick are prepared once: a new one per call costs memory until collected.
  const allTargets = db.prepare('SELECT key, pid, command, alive, first_seen, last_seen FROM targets ORDER BY key');
  const setGone = db.prepare('UPDATE targets SET alive = 0 WHERE id = ?');

  const idOfSeries = (tid: number, scope: Scope, name: string): number => {
    const k = `${tid}\0${scope}\0${name}`;
    let id = seriesCache.get(k);
    if (id === undefined) {
      const row = seriesId.get(tid, scope, name) as { id: number } | undefined;
      id = row ? row.id : Number(insertSeries.run(tid, scope, name).lastInsertRowid);
      seriesCache.set(k, id);
    }
    return id;
  };

  const record = db.transaction((ts: number, samples: TargetSample[], maxSilenceMs: number) => {
    for (const s of samples) {
      const before = targetId.get(s.key) as { id: number; alive: number; pid: number | null; last_seen: number } | undefined;
      if (before?.alive && (before.pid !== s.pid || ts - before.last_seen > maxSilenceMs)) {
        insertGap.run(before.id, before.last_seen, ts, before.pid !== s.pid ? `restarted as pid ${s.pid}` : 'not recorded');
        breakLines(before.id, Math.floor((before.last_seen + ts) / 2));
      }
      upsertTarget.run({ key: s.key, pid: s.pid, command: s.command, ts });
      const tid = (targetId.get(s.key) as { id: number }).id;
      if (before && !before.alive) closeGap.run(ts, tid);
      for (const [scope, values] of Object.entries(s.values) as [Scope, Record<string, number | null>][]) {
        for (const [name, value] of Object.entries(values)) insertRaw.run(idOfSeries(tid, scope, name), ts, value);
      }
      if (s.snapshotJson !== undefined) insertSnapshot.run(tid, ts, s.snapshotJson);
    }
  });

  const markGone = db.transaction((ts: number, keys: string[], reason: string) => {
    for (const key of keys) {
      const t = targetId.get(key) as { id: number; alive: number } | undefined;
      if (!t || !t.alive) continue;
      setGone.run(t.id);
      insertGap.run(t.id, ts, null, reason);
      breakLines(t.id, ts);
    }
  });

  replayDeadJournals(path, (tick) => record(tick.ts, tick.samples, tick.maxSilenceMs ?? Infinity));
  const journal = writer.commitEveryMs ? openJournal(path) : undefined;
  let pending: JournalTick[] = [];
  let lastCommit = 0;
  const commitPending = db.transaction((ticks: JournalTick[]) => {
    for (const t of ticks) record(t.ts, t.samples, t.maxSilenceMs ?? Infinity);
  });
  /** Every read and every other write sees the ticks still in the journal: they are committed first. */
  const flush = () => {
    if (pending.length === 0) return;
    commitPending(pending);
    pending = [];
    lastCommit = performance.now();
    if (journal) ftruncateSync(journal.fd, 0);
  };
  const recordTicks = (ticks: { ts: number; samples: TargetSample[] }[], maxSilenceMs: number) => {
    if (ticks.length === 0) return;
    const journalTicks: JournalTick[] = ticks.map((t) => ({ ...t, ...(Number.isFinite(maxSilenceMs) ? { maxSilenceMs } : {}) }));
    // A 1 Hz writer, whose ticks come a few ms early or late, commits every tick, without the journal.
    const due = isDue(lastCommit, performance.now(), writer.commitEveryMs ?? 0);
    if (!journal || (due && pending.length === 0)) {
      commitPending(journalTicks);
      lastCommit = performance.now();
      return;
    }
    writeSync(journal.fd, journalTicks.map((t) => `${JSON.stringify(t)}\n`).join(''));
    pending.push(...journalTicks);
    if (due) flush();
  };

  const rollup = (from: string, to: string, bucket: number, since: number, until: number) => {
    // Whole buckets only: [since, until) is aligned by the caller.
    const src = from === 'raw' ? 'value' : 'avg';
    db.prepare(
      `
      INSERT OR REPLACE INTO ${to} (series_id, ts, min, avg, max, n)
      SELECT series_id, (ts / ${bucket}) * ${bucket},
             min(${from === 'raw' ? 'value' : 'min'}), avg(${src}), max(${from === 'raw' ? 'value' : 'max'}),
             ${from === 'raw' ? 'count(value)' : 'sum(n)'}
      FROM ${from} WHERE ts >= ? AND ts < ? GROUP BY series_id, ts / ${bucket}`,
    ).run(since, until);
  };

  const lastRolled = (tier: string): number =>
    Number((db.prepare('SELECT value FROM meta WHERE key = ?').get(`rolled_${tier}`) as { value: string } | undefined)?.value ?? 0);
  const setRolled = (tier: string, ts: number) =>
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(`rolled_${tier}`, String(ts));

  const maintain = db.transaction((now: number) => {
    const minuteEnd = Math.floor(now / MINUTE) * MINUTE;
    const minuteStart = Math.max(lastRolled('minute'), minuteEnd - retention.rawMs);
    if (minuteEnd > minuteStart) {
      rollup('raw', 'minute', MINUTE, Math.floor(minuteStart / MINUTE) * MINUTE, minuteEnd);
      setRolled('minute', minuteEnd);
    }
    const hourEnd = Math.floor(now / HOUR) * HOUR;
    const hourStart = Math.max(lastRolled('hour'), hourEnd - retention.minuteMs);
    if (hourEnd > hourStart) {
      rollup('minute', 'hour', HOUR, Math.floor(hourStart / HOUR) * HOUR, hourEnd);
      setRolled('hour', hourEnd);
    }
    db.prepare('DELETE FROM raw WHERE ts < ?').run(now - retention.rawMs);
    db.prepare('DELETE FROM snapshots WHERE ts < ?').run(now - retention.rawMs);
    db.prepare('DELETE FROM minute WHERE ts < ?').run(now - retention.minuteMs);
    db.prepare('DELETE FROM hour WHERE ts < ?').run(now - retention.hourMs);
  });

  const query = (q: SeriesQuery): SeriesResult => {
    const t = targetId.get(q.key) as { id: number } | undefined;
    const span = Math.max(1, q.to - q.from);
    const oldest = (tier: string): number | null =>
      t
        ? (
            db.prepare(`SELECT min(ts) AS m FROM ${tier} WHERE series_id IN (SELECT id FROM series WHERE target_id = ?)`).get(t.id) as {
              m: number | null;
            }
          ).m
        : null;
    const [rawOldest, minuteOldest, hourOldest] = [oldest('raw'), oldest('minute'), oldest('hour')];
    // The finest tier that holds the start of the range (or of the history, if that is later).
    const start = Math.max(q.from, Math.min(...[rawOldest, minuteOldest, hourOldest].filter((x): x is number => x !== null), Infinity));
    const resolution: SeriesResult['resolution'] =
      rawOldest !== null && rawOldest <= start
        ? 'raw'
        : minuteOldest !== null && minuteOldest <= start
          ? 'minute'
          : hourOldest !== null
            ? 'hour'
            : 'raw';
    const tierStep = resolution === 'raw' ? 1 : resolution === 'minute' ? MINUTE : HOUR;
    const bucket = Math.max(tierStep, Math.ceil(span / Math.max(1, q.maxPoints) / tierStep) * tierStep);
    if (!t) return { resolution, ts: [], series: [], peaks: [] };
    const rows = (
      resolution === 'raw'
        ? db.prepare(`SELECT s.name, (r.ts / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS b,
                           avg(r.value) AS v, max(r.value) AS hi, count(*) AS n
                    FROM raw r JOIN series s ON s.id = r.series_id
                    WHERE s.target_id = ? AND s.scope = ? AND r.ts >= ? AND r.ts <= ? GROUP BY s.name, b ORDER BY b`)
        : db.prepare(`SELECT s.name, (r.ts / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS b,
                           sum(r.avg * r.n) / nullif(sum(r.n), 0) AS v, max(r.max) AS hi, sum(r.n) AS n
                    FROM ${resolution} r JOIN series s ON s.id = r.series_id
                    WHERE s.target_id = ? AND s.scope = ? AND r.ts >= ? AND r.ts <= ? GROUP BY s.name, b ORDER BY b`)
    ).all(bucket, bucket, t.id, q.scope, q.from, q.to) as { name: string; b: number; v: number | null; hi: number | null }[];
    const ts = [...new Set(rows.map((r) => r.b))].sort((a, b) => a - b);
    const index = new Map(ts.map((x, i) => [x, i]));
    const byName = new Map<string, { values: (number | null)[]; highs: (number | null)[] }>();
    for (const r of rows) {
      let columns = byName.get(r.name);
      if (!columns) {
        columns = { values: new Array<number | null>(ts.length).fill(null), highs: new Array<number | null>(ts.length).fill(null) };
        byName.set(r.name, columns);
      }
      columns.values[index.get(r.b)!] = r.v;
      columns.highs[index.get(r.b)!] = r.hi;
    }
    const names = [...byName.keys()].sort((a, b) => a.localeCompare(b));
    return {
      resolution,
      ts,
      series: names.map((name) => ({ name, values: byName.get(name)!.values })),
      peaks: names.flatMap((name) => {
        const peak = highestPoint(ts, byName.get(name)!.highs);
        return peak ? [{ name, ...peak }] : [];
      }),
    };
  };

  const afterFlush =
    <A extends unknown[], R>(read: (...args: A) => R) =>
    (...args: A): R => {
      flush();
      return read(...args);
    };

  return {
    path,
    record: (ts, samples, maxSilenceMs = Infinity) => recordTicks([{ ts, samples }], maxSilenceMs),
    recordTicks: (ticks, maxSilenceMs = Infinity) => recordTicks(ticks, maxSilenceMs),
    markGone: (ts, keys, reason) => {
      if (keys.length === 0) return;
      flush();
      markGone(ts, keys, reason);
    },
    targets: afterFlush(() =>
      (
        allTargets.all() as {
          key: string;
          pid: number | null;
          command: string | null;
          alive: number;
          first_seen: number;
          last_seen: number;
        }[]
      ).map((r) => ({
        key: r.key,
        pid: r.pid,
        command: r.command,
        alive: r.alive === 1,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
      })),
    ),
    gaps: afterFlush(
      (key: string) =>
        db
          .prepare(
            `SELECT g.start_ts AS start, g.end_ts AS end, g.reason FROM gaps g JOIN targets t ON t.id = g.target_id
           WHERE t.key = ? ORDER BY g.start_ts`,
          )
          .all(key) as { start: number; end: number | null; reason: string }[],
    ),
    query: afterFlush(query),
    latestSnapshot: afterFlush(
      (key: string) =>
        (
          db
            .prepare('SELECT s.json FROM snapshots s JOIN targets t ON t.id = s.target_id WHERE t.key = ? ORDER BY s.ts DESC LIMIT 1')
            .get(key) as { json: string } | undefined
        )?.json,
    ),
    maintain: afterFlush(maintain),
    counts: afterFlush(() => ({
      raw: (db.prepare('SELECT count(*) AS n FROM raw').get() as { n: number }).n,
      minute: (db.prepare('SELECT count(*) AS n FROM minute').get() as { n: number }).n,
      hour: (db.prepare('SELECT count(*) AS n FROM hour').get() as { n: number }).n,
      snapshots: (db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n,
    })),
    close: () => {
      flush();
      if (journal) {
        closeSync(journal.fd);
        unlinkSync(journal.path);
      }
      db.close();
    },
  };
}

interface JournalTick {
  ts: number;
  samples: TargetSample[];
  maxSilenceMs?: number;
}

/** `<db>-ticks-<pid>`: the ticks a writer has not committed yet, one JSON line each. */
const journalPrefix = (dbPath: string) => `${basename(dbPath)}-ticks-`;

function openJournal(dbPath: string): { fd: number; path: string } {
  const path = join(dirname(dbPath), `${journalPrefix(dbPath)}${process.pid}`);
  return { fd: openSync(path, 'a'), path };
}

/** A writer's pid that is gone or a zombie: its journal is no one's. */
function writerGone(pid: number): boolean {
  try {
    return /^[ZX]$/.test(parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.state ?? 'X');
  } catch {
    return true;
  }
}

/**
 * Commits the journals of writers that died before committing them. Renaming claims one, so two
 * openers never replay it twice; a line cut short by the kill is skipped.
 */
function replayDeadJournals(dbPath: string, replay: (tick: JournalTick) => void): void {
  const prefix = journalPrefix(dbPath);
  let names: string[];
  try {
    names = readdirSync(dirname(dbPath));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(prefix.length));
    if (!name.startsWith(prefix) || !Number.isInteger(pid) || pid === process.pid || !writerGone(pid)) continue;
    const claimed = join(dirname(dbPath), `${name}.replaying-${process.pid}`);
    try {
      renameSync(join(dirname(dbPath), name), claimed);
    } catch {
      continue; // another opener claimed it
    }
    for (const line of readFileSync(claimed, 'utf8').split('\n')) {
      let tick: JournalTick;
      try {
        tick = JSON.parse(line) as JournalTick;
      } catch {
        continue;
      }
      replay(tick);
    }
    unlinkSync(claimed);
  }
}
