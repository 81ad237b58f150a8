// The dashboard's view of gzmem serve's API: reply types and the few calls it makes (same origin).

export type { Snapshot, DpdkProcess, Mempool, Ring, Level, Orphan, PosixCallCount } from '../../src/model/snapshot.js';
export type { StackView } from '../../src/model/stack-view.js';
import type { Snapshot } from '../../src/model/snapshot.js';

export interface Target {
  /** The EAL file prefix: what identifies a target across restarts of its pid. */
  key: string;
  pid: number;
  command: string;
  alive: boolean;
  /** ms since the epoch */
  firstSeen: number;
  lastSeen: number;
}

export type Scope = 'process' | 'stack' | 'pool' | 'calls';

export interface Series {
  name: string;
  label: string;
  unit: string;
  /** As long as `ts`; null where there is no sample. */
  values: (number | null)[];
}

export interface SeriesReply {
  resolution: 'raw' | 'minute' | 'hour';
  /** seconds since the epoch */
  ts: number[];
  series: Series[];
  peaks: { name: string; ts: number; value: number }[];
}

/** One recorder tick of one target, as SSE `event: sample` sends it. */
export interface Sample {
  target: string;
  ts: number;
  process: Record<string, number | null>;
  stacks: Record<string, number | null>;
  pools: Record<string, number | null>;
  /** POSIX calls per thread since its first (a counter). */
  calls: Record<string, number | null>;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal: signal ?? null, headers: { accept: 'application/json' } });
  if (!res.ok) {
    let why = res.statusText;
    try {
      why = ((await res.json()) as { error?: string }).error ?? why;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(`${path.split('?')[0]}: ${res.status} ${why}`, res.status);
  }
  return (await res.json()) as T;
}

export async function fetchTargets(): Promise<Target[]> {
  return (await get<{ targets: Target[] }>('api/targets')).targets;
}

export type { AdviceResult } from '../../src/gather/advice.js';

/** Right-sizing advice from the target's history over the window. */
export function fetchAdvice(
  target: string,
  windowMs: number,
  signal?: AbortSignal,
): Promise<import('../../src/gather/advice.js').AdviceResult> {
  return get(`api/advice?target=${encodeURIComponent(target)}&window=${Math.round(windowMs)}`, signal);
}

export function fetchSnapshot(target: string, signal?: AbortSignal): Promise<Snapshot> {
  return get<Snapshot>(`api/snapshot?target=${encodeURIComponent(target)}`, signal);
}

export function fetchSeries(
  target: string,
  scope: Scope,
  fromMs: number,
  toMs: number,
  maxPoints: number,
  signal?: AbortSignal,
): Promise<SeriesReply> {
  const q = new URLSearchParams({
    target,
    scope,
    from: String(Math.floor(fromMs)),
    to: String(Math.ceil(toMs)),
    maxPoints: String(Math.max(2, Math.round(maxPoints))),
  });
  return get<SeriesReply>(`api/series?${q}`, signal);
}

export interface EventHandlers {
  sample: (s: Sample) => void;
  targets: (t: Target[]) => void;
  /** true when the stream is open, false while EventSource reconnects. */
  connection: (open: boolean) => void;
}

/** Subscribes to /api/events; EventSource reconnects by itself. Returns the unsubscribe. */
export function subscribe(on: EventHandlers): () => void {
  const es = new EventSource('api/events');
  es.addEventListener('open', () => on.connection(true));
  es.addEventListener('error', () => on.connection(false));
  es.addEventListener('sample', (e) => on.sample(JSON.parse((e as MessageEvent<string>).data) as Sample));
  es.addEventListener('targets', (e) => on.targets((JSON.parse((e as MessageEvent<string>).data) as { targets: Target[] }).targets));
  return () => es.close();
}
