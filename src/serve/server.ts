// gzmem serve's HTTP server: /metrics and /api/* first, then the dashboard's static files.
// Only wiring here: data comes from the recorder (latest snapshots) and the store (history).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { Metrics } from './metrics.js';
import type { Snapshot } from '../model/snapshot.js';
import type { Scope, Store } from '../store/store.js';
import type { Tick } from '../gather/recorder.js';

export interface ServerOptions {
  store: Store;
  /** Sampling interval, so the dashboard knows when samples are late; null when not recording. */
  intervalSec: number | null;
  latest: Map<string, Snapshot>;
  metrics: Metrics;
  /** dist/web: the built dashboard. */
  webRoot: string;
  /** Right-sizing advice for a target from its history over a window; undefined for an unknown target. */
  advise?: (key: string, windowMs: number, headroom: number) => Promise<unknown>;
}

export interface GzmemServer {
  server: Server;
  /** Pushes one recorder tick to every SSE client. */
  publish(tick: Tick): void;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};
const SCOPES: Scope[] = ['process', 'stack', 'pool', 'pool_peak', 'ring_peak', 'calls', 'machine'];
/** Live dashboards at once; more get 503 rather than memory and a write per tick each. */
export const MAX_SSE_CLIENTS = 64;
/** A client that lets this much pile up unread is dropped, not buffered for. */
const SSE_MAX_BACKLOG = 1024 * 1024;
const SSE_HEARTBEAT_MS = 15_000;

/**
 * Host names a browser may use to reach this server: IP literals, localhost and this machine's
 * name. A page on another domain that rebinds its name to 127.0.0.1 sends its own name: refused.
 */
export function hostAllowed(header: string | undefined, machineName: string): boolean {
  if (!header) return false;
  const name = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d+$/, '');
  return isIP(name) !== 0 || name === 'localhost' || name.toLowerCase() === machineName.toLowerCase();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function intParam(url: URL, name: string, fallback: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  return /^\d{1,16}$/.test(v) ? Number(v) : undefined;
}

export function startServer(options: ServerOptions, port: number, host: string): Promise<GzmemServer> {
  const { store, latest, metrics, webRoot } = options;
  const machineName = hostname();
  const clients = new Set<ServerResponse>();

  const targetsBody = () => ({ targets: store.targets(), intervalSec: options.intervalSec });

  const api = async (url: URL, res: ServerResponse): Promise<void> => {
    switch (url.pathname) {
      case '/api/advice': {
        const key = url.searchParams.get('target') ?? '';
        const windowMs = intParam(url, 'window', 3_600_000);
        const headroom = Number(url.searchParams.get('headroom') ?? '1.3');
        if (!options.advise || !key || windowMs === undefined || windowMs < 1000 || !(headroom >= 1 && headroom <= 10))
          return json(res, 400, { error: 'expected target, window (ms, at least 1000) and headroom (1..10)' });
        try {
          const advice = await options.advise(key, windowMs, headroom);
          return advice === undefined ? json(res, 404, { error: 'no live snapshot of that target' }) : json(res, 200, advice);
        } catch (err) {
          // A target without history or a readable lstack.conf: say why, as the CLI would.
          return json(res, 422, { error: err instanceof Error ? err.message : String(err) });
        }
      }
      case '/api/targets':
        return json(res, 200, targetsBody());
      case '/api/snapshot': {
        const key = url.searchParams.get('target') ?? '';
        const s = latest.get(key);
        if (s) return json(res, 200, s);
        // A target gone before this server started: its last kept snapshot, if it was recorded with --keep-snapshots.
        const kept = store.latestSnapshot(key);
        if (kept) {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
          res.end(kept);
          return;
        }
        return json(res, 404, {
          error: 'no snapshot of that target (not seen since the server started, and none kept: record with --keep-snapshots)',
        });
      }
      case '/api/series': {
        const key = url.searchParams.get('target');
        const scope = url.searchParams.get('scope') as Scope | null;
        const now = Date.now();
        const to = intParam(url, 'to', now);
        const from = intParam(url, 'from', now - 300_000);
        const maxPoints = intParam(url, 'maxPoints', 1000);
        if (
          !key ||
          !scope ||
          !SCOPES.includes(scope) ||
          from === undefined ||
          to === undefined ||
          maxPoints === undefined ||
          from > to ||
          maxPoints < 1
        ) {
          return json(res, 400, {
            error: `expected target, scope (${SCOPES.join('|')}), from and to (ms), maxPoints`,
          });
        }
        const r = store.query({ key, scope, from, to, maxPoints: Math.min(maxPoints, 10000) });
        // uPlot wants seconds on the x axis.
        return json(res, 200, {
          resolution: r.resolution,
          ts: r.ts.map((t) => t / 1000),
          // The process chart is in bytes; counters such as rx_nombuf stay in the history for advice.
          series: r.series
            .filter((s) => scope !== 'process' || s.name.endsWith('_bytes'))
            .map((s) => ({
              ...s,
              label: scope === 'process' ? s.name.replace(/_bytes$/, '').replace(/_/g, ' ') : s.name,
              unit: scope === 'pool' || scope === 'pool_peak' || scope === 'ring_peak' ? 'objects' : scope === 'calls' ? 'calls' : 'bytes',
            })),
          peaks: r.peaks.filter((p) => scope !== 'process' || p.name.endsWith('_bytes')).map((p) => ({ ...p, ts: p.ts / 1000 })),
        });
      }
      case '/api/events': {
        if (clients.size >= MAX_SSE_CLIENTS) return json(res, 503, { error: `too many live clients (${MAX_SSE_CLIENTS})` });
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`event: targets\ndata: ${JSON.stringify(targetsBody())}\n\n`);
        clients.add(res);
        res.on('close', () => clients.delete(res));
        return;
      }
      default:
        return json(res, 404, { error: `no such endpoint: ${url.pathname}` });
    }
  };

  const serveStatic = async (url: URL, res: ServerResponse): Promise<void> => {
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.(\/|\\|$))+/, '');
    const path = join(webRoot, rel === '/' || rel === sep ? 'index.html' : rel);
    if (!path.startsWith(webRoot)) return json(res, 403, { error: 'forbidden' });
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      if (rel === '/' || rel === sep) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('The dashboard is not built: run `npm run build:web` (make setup does it).\n');
        return;
      }
      json(res, 404, { error: 'not found' });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req.headers.host, machineName)) return json(res, 403, { error: 'unexpected Host header' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'GET only' });
    if (url.pathname === '/metrics') {
      const body = await metrics.scrape();
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(body);
      return;
    }
    if (url.pathname.startsWith('/api/')) return api(url, res);
    return serveStatic(url, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.end();
    });
  });

  const publish = (tick: Tick) => {
    const ts = tick.ts / 1000;
    let frames = '';
    for (const s of tick.samples) {
      const v = s.values;
      const sample = { target: s.key, ts, process: v.process ?? {}, stacks: v.stack ?? {}, pools: v.pool ?? {}, calls: v.calls ?? {} };
      frames += `event: sample\ndata: ${JSON.stringify(sample)}\n\n`;
    }
    if (tick.gone.length > 0 || tick.samples.some((s) => !latestKeysAtLastPublish.has(s.key))) {
      frames += `event: targets\ndata: ${JSON.stringify(targetsBody())}\n\n`;
    }
    latestKeysAtLastPublish = new Set(tick.samples.map((s) => s.key));
    send(frames);
  };
  /** Writes to every live client; one that does not read is dropped. */
  const send = (frames: string) => {
    for (const c of clients) {
      if (c.writableLength > SSE_MAX_BACKLOG) {
        clients.delete(c);
        c.destroy();
        continue;
      }
      c.write(frames);
    }
  };
  // Comments keep idle connections (and proxies in between) from timing out.
  const heartbeat = setInterval(() => send(': heartbeat\n\n'), SSE_HEARTBEAT_MS);
  heartbeat.unref();
  let latestKeysAtLastPublish = new Set<string>();

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        server,
        publish,
        close: () =>
          new Promise<void>((r) => {
            clearInterval(heartbeat);
            for (const c of clients) c.end();
            server.close(() => r());
          }),
      });
    });
  });
}
