// Time for the dashboard to load and draw 24 h (and 6 h) of 1 s history: a database seeded with
// 24 h of 1 Hz samples ending now (10 series, as `gzmem record` keeps for a 2-stack gzload), served
// by the real `gzmem serve --no-record`, drawn by Debian's Chromium. Prints milliseconds per window.
// Run: node --import tsx bench/dashboard.ts

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { openStore, type TargetSample } from '../src/store/store.js';
import { startServe, stopChild } from '../test/helpers/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'gzmem-dash-'));
const db = join(dir, 'dash.db');
const key = 'gzbench';
const end = Date.now();
const start = end - 24 * 3600_000;
const store = openStore(db);
const seedStart = performance.now();
for (let i = 0; start + i * 1000 <= end; i++) {
  const ts = start + i * 1000;
  const s: TargetSample = {
    key, pid: 4242, command: 'gzload',
    values: {
      process: { reserved_bytes: 85983232, heap_bytes: 85983232, allocated_bytes: 83495616, in_use_bytes: 10_000_000 + Math.round(3e6 * Math.sin(i / 900)) },
      stack: { gazellelstack00: 4_600_000 + (i % 120) * 500, gazellelstack01: 4_700_000 + (i % 90) * 500 },
      pool: { rxtx_mbuf_0: 250 + (i % 60), rxtx_mbuf_1: 260 + (i % 45), rpc_pool_1: 0, rpc_pool_2: 0 },
    },
  };
  store.record(ts, [s]);
  if (i % 60 === 59) store.maintain(ts);
}
store.maintain(end);
store.close();
console.log(`seeded 24 h of 1 Hz samples in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

const srv = await startServe(['--db', db, '--no-record']);
const browserServer = await chromium.launchServer({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const browser = await chromium.connect(browserServer.wsEndpoint());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const t0 = performance.now();
  await page.goto(`${srv.url}#target=${key}`);
  await page.waitForFunction(() => document.querySelector('#windows [data-window="24h"]') !== null);
  console.log(`page loaded in ${(performance.now() - t0).toFixed(0)} ms`);
  for (const w of ['24h', '6h', '24h']) {
    const draws = Number(await page.getAttribute('#panel-process', 'data-draws'));
    const t = performance.now();
    await page.click(`#windows [data-window="${w}"]`);
    await page.waitForFunction(
      (d) => {
        const p = document.querySelector<HTMLElement>('#panel-process')!;
        return Number(p.dataset.draws) > d && Number(p.dataset.points) > 0;
      },
      draws,
      { timeout: 60_000 },
    );
    const points = await page.getAttribute('#panel-process', 'data-points');
    const resolution = await page.getAttribute('#panel-process', 'data-resolution');
    console.log(`window ${w.padEnd(4)} fetched and drawn in ${(performance.now() - t).toFixed(0)} ms (${points} points per series, ${resolution})`);
  }
  await browser.close();
} finally {
  await browserServer.close();
  await stopChild(srv);
  rmSync(dir, { recursive: true, force: true });
}
