// Reads the telemetry commands that libgzmem.so (native/libgzmem.c) adds to a DPDK process:
// exact mempool occupancy and the registry of every ring, paginated under the 16 KiB reply cap.

import type { TelemetryConnection } from './telemetry-socket.js';
import { isRecord } from './telemetry-socket.js';
import { ProtocolError } from '../errors.js';

export interface PreloadPool {
  name: string;
  size: number;
  avail: number;
  inUse: number;
  common: number;
  cache: number;
  cacheSize: number;
}

export interface PreloadRing {
  name: string;
  capacity: number;
  count: number;
  creatorTid: number;
  flags: number;
  address: string;
}

export interface PreloadReading {
  version: number;
  pools: PreloadPool[];
  rings: PreloadRing[];
  ringsDropped: number;
  ringsStale: number;
}

/** Pages are walked until `next` is -1; a bound stops a server that never says so. */
const MAX_PAGES = 10000;

function column<T>(page: Record<string, unknown>, key: string, length: number, check: (v: unknown) => v is T, what: string): T[] {
  const v = page[key];
  if (!Array.isArray(v) || v.length !== length || !v.every(check)) throw new ProtocolError(`malformed ${what} page: column ${key}`);
  return v as T[];
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

async function pages(
  conn: TelemetryConnection,
  command: string,
  onPage: (page: Record<string, unknown>, n: number) => void,
): Promise<void> {
  let start = 0;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await conn.cmd(`${command},${start}`);
    if (!isRecord(page) || !isNum(page.next) || !isNum(page.total)) throw new ProtocolError(`malformed reply to ${command},${start}`);
    const names = page.name;
    const n = Array.isArray(names) ? names.length : 0;
    onPage(page, n);
    if (page.next === -1) return;
    if (page.next <= start) throw new ProtocolError(`${command} does not advance (next ${page.next} after ${start})`);
    start = page.next;
  }
  throw new ProtocolError(`${command}: more than ${MAX_PAGES} pages`);
}

/** undefined when the process has no preload (the command is unknown: null reply). */
export async function readPreload(conn: TelemetryConnection): Promise<PreloadReading | undefined> {
  const info = await conn.cmd('/gzmem/info');
  if (info === null) return undefined;
  if (!isRecord(info) || !isNum(info.version)) throw new ProtocolError('malformed reply to /gzmem/info');
  const pools: PreloadPool[] = [];
  await pages(conn, '/gzmem/mempools', (p, n) => {
    const name = column(p, 'name', n, isStr, '/gzmem/mempools');
    const cols = ['size', 'avail', 'in_use', 'common', 'cache', 'cache_size'].map((k) => column(p, k, n, isNum, '/gzmem/mempools'));
    for (let i = 0; i < n; i++) {
      const [size, avail, inUse, common, cache, cacheSize] = cols.map((c) => c[i]!) as [number, number, number, number, number, number];
      pools.push({ name: name[i]!, size, avail, inUse, common, cache, cacheSize });
    }
  });
  const rings: PreloadRing[] = [];
  await pages(conn, '/gzmem/rings', (p, n) => {
    const name = column(p, 'name', n, isStr, '/gzmem/rings');
    const address = column(p, 'addr', n, isStr, '/gzmem/rings');
    const [capacity, count, tid, flags] = ['capacity', 'count', 'tid', 'flags'].map((k) => column(p, k, n, isNum, '/gzmem/rings'));
    for (let i = 0; i < n; i++) {
      rings.push({
        name: name[i]!,
        capacity: capacity![i]!,
        count: count![i]!,
        creatorTid: tid![i]!,
        flags: flags![i]!,
        address: address[i]!,
      });
    }
  });
  return {
    version: info.version,
    pools,
    rings,
    ringsDropped: isNum(info.rings_dropped) ? info.rings_dropped : 0,
    ringsStale: isNum(info.rings_stale) ? info.rings_stale : 0,
  };
}
