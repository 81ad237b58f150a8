// Debian's prometheus scrapes `gzmem serve`; a gauge read back through its HTTP API equals
// gzmem's snapshot of the same process.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../src/model/snapshot.js';
import { hugepagesMissing, startGzload, stop, type DpdkProc, PRELOAD } from '../helpers/dpdk.js';
import { startServe, stopChild, type Served } from '../helpers/serve.js';

const PROMETHEUS = '/usr/bin/prometheus';
const missing = hugepagesMissing() ?? (existsSync(PROMETHEUS) ? undefined : 'prometheus not installed');
if (missing && process.env.CI === 'true') throw new Error(`CI needs ${missing}`);
const dir = mkdtempSync(join(tmpdir(), 'gzmem-prom-'));
let gz: DpdkProc | undefined;
let srv: Served | undefined;
let prom: ChildProcess | undefined;
after(async () => {
  if (prom && prom.exitCode === null) {
    const gone = new Promise((r) => prom!.once('exit', r));
    process.kill(prom.pid!, 'SIGTERM');
    await gone;
  }
  await stopChild(srv);
  await stop(gz);
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('a gauge scraped by prometheus equals the snapshot', { skip: missing }, async () => {
  gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env: { LD_PRELOAD: PRELOAD } });
  srv = await startServe([gz.prefix, '--db', join(dir, 'g.db'), '-i', '0.5']);
  const target = new URL(srv.url).host;
  const promPort = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gzmem\n    static_configs:\n      - targets: ['${target}']\n`);
  let promErr = '';
  prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  prom.stderr!.on('data', (b: Buffer) => { promErr = (promErr + b.toString()).slice(-4000); });

  const query = `gzmem_process_hugepages_reserved_bytes{prefix="${gz.prefix}"}`;
  let value: number | undefined;
  const until = Date.now() + 30000;
  while (value === undefined && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body = (await r.json()) as { data?: { result?: { value: [number, string] }[] } };
      const v = body.data?.result?.[0]?.value[1];
      if (v !== undefined) value = Number(v);
    } catch {
      // prometheus still starting
    }
  }
  assert.ok(value !== undefined, `prometheus never had ${query}: ${promErr.slice(-500)}`);
  const snap = (await (await fetch(new URL(`/api/snapshot?target=${gz.prefix}`, srv.url))).json()) as Snapshot;
  assert.equal(value, snap.processes[0]!.waterfall.reserved.bytes);
  // The same figure the kernel reports for the process.
  const status = readFileSync(`/proc/${gz.pid}/status`, 'utf8');
  assert.equal(value, Number(/HugetlbPages:\s+(\d+) kB/.exec(status)![1]) * 1024);
});
