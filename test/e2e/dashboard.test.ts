// The dashboard in a real Chromium, against a real gzload (preloaded, bursting) and a real `gzmem serve`.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserServer, Page } from 'playwright-core';
import { ROOT } from '../helpers/fixtures.js';
import { GZLOAD, gzmem, hugepagesMissing, startGzload, stop, type DpdkProc } from '../helpers/dpdk.js';
import { bytes, bytesTick, percent, timeTicks } from '../../web/src/format.js';
import { appendColumns, columnPeaks, orderByName, panelOptions, type Columns } from '../../web/src/charts.js';
import { sortRows } from '../../web/src/tables.js';

const CHROMIUM = '/usr/bin/chromium';
const PRELOAD = join(ROOT, 'native', 'build', 'libgzmem.so');
const VITE = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
const WEB_INDEX = join(ROOT, 'dist', 'web', 'index.html');
const OUTPUT = join(ROOT, 'test-output');
const BYTES = /^\d+(\.\d+)? (B|KiB|MiB|GiB|TiB)$/;

// The page's pure parts first: they need no browser, so they run everywhere.

test('bytes in binary units, unknown as a dash', () => {
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(1023), '1023 B');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(60817408), '58.0 MiB');
  assert.equal(bytes(1073741824), '1.0 GiB');
  assert.equal(bytes(null), '–');
  assert.equal(bytesTick(512 * 1024 * 1024), '512 MiB');
  assert.equal(percent(1, 8), '12.5%');
  assert.equal(percent(1, null), '–');
  assert.equal(percent(1, 0), '–');
});

test('time ticks carry the date at the first tick and when the day changes', () => {
  const midnight = new Date(2026, 10, 24).getTime() / 1000;
  assert.deepEqual(timeTicks([midnight - 3600, midnight, midnight + 3600], 3600), ['23:00\nNov 23', '00:00\nNov 24', '01:00']);
  assert.deepEqual(timeTicks([midnight + 5, midnight + 10], 5), ['00:00:05\nNov 24', '00:00:10']);
});

test('live samples slide the window; a missing value is a gap, never 0', () => {
  let data: Columns = [
    [100, 101],
    [1, 2],
  ];
  data = appendColumns(data, ['a', 'b'], 102, { a: 3 }, 60);
  assert.deepEqual(data, [
    [100, 101, 102],
    [1, 2, 3],
    [null, null, null],
  ]);
  data = appendColumns(data, ['a', 'b'], 161, { a: null, b: 7 }, 60);
  assert.deepEqual(data, [
    [101, 102, 161],
    [2, 3, null],
    [null, null, 7],
  ]);
  // A repeated or older tick is dropped.
  assert.equal(appendColumns(data, ['a', 'b'], 161, { a: 1 }, 60), data);
  assert.deepEqual(
    columnPeaks(data, ['a', 'b']),
    new Map([
      ['a', { ts: 102, value: 3 }],
      ['b', { ts: 161, value: 7 }],
    ]),
  );
});

test('panel options: the waterfall order, synced cursors, one series per name', () => {
  const series = ['allocated_bytes', 'heap_bytes', 'in_use_bytes', 'reserved_bytes', 'extra'].map((name) => ({ name }));
  const order = ['reserved_bytes', 'heap_bytes', 'allocated_bytes', 'in_use_bytes'];
  assert.deepEqual(
    orderByName(series, order).map((s) => s.name),
    [...order, 'extra'],
  );
  const o = panelOptions({ id: 'p', title: 't', unit: 'bytes', legend: 'name' }, [{ name: 'x', label: 'x' }], 800);
  assert.equal(o.series.length, 2);
  assert.equal(o.series[1]!.spanGaps, false);
  assert.equal(o.cursor?.sync?.key, 'gzmem');
});

test('table sort: numbers as numbers, names naturally, unknown last both ways', () => {
  const rows = [
    { n: 'ring_10', v: 5 },
    { n: 'ring_9', v: null },
    { n: 'ring_2', v: 40 },
  ];
  const byV = { key: 'v', label: 'v', value: (r: { v: number | null }) => r.v };
  const byN = { key: 'n', label: 'n', value: (r: { n: string }) => r.n };
  assert.deepEqual(
    sortRows(rows, byV, false).map((r) => r.v),
    [5, 40, null],
  );
  assert.deepEqual(
    sortRows(rows, byV, true).map((r) => r.v),
    [40, 5, null],
  );
  assert.deepEqual(
    sortRows(rows, byN, false).map((r) => r.n),
    ['ring_2', 'ring_9', 'ring_10'],
  );
});

// The real thing: gzload, gzmem serve and Chromium.

/** Why the browser side cannot run here, or undefined when it can. In CI this is a failure. */
function browserMissing(): string | undefined {
  const why = !existsSync(CHROMIUM)
    ? `${CHROMIUM} not installed (apt-get install chromium)`
    : !existsSync(join(ROOT, 'node_modules', 'playwright-core'))
      ? 'playwright-core not installed'
      : !existsSync(VITE)
        ? 'vite not installed'
        : !existsSync(GZLOAD) || !existsSync(PRELOAD)
          ? 'native/ not built (make native)'
          : undefined;
  if (why && process.env.CI === 'true') throw new Error(`CI needs the dashboard test to run: ${why}`);
  return why;
}

const skip = hugepagesMissing() ?? browserMissing();

/** The built dashboard, rebuilt when missing or older than a source under web/. */
function buildDashboard(): void {
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  if (existsSync(WEB_INDEX) && statSync(WEB_INDEX).mtimeMs >= newest(join(ROOT, 'web'))) return;
  const r = spawnSync(process.execPath, [VITE, 'build', '--config', 'web/vite.config.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `vite build failed:\n${r.stdout}\n${r.stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `probe` until it gives a value; `fatal` says why waiting is pointless (e.g. a child exited). */
async function until<T>(
  what: () => string,
  ms: number,
  probe: () => Promise<T | undefined>,
  fatal: () => string | undefined = () => undefined,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const dead = fatal();
    if (dead) throw new Error(dead);
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Stops a child we started, by its PID: SIGTERM, then SIGKILL if it lingers. */
async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => killIfAlive(child.pid!), 5000);
  await gone;
  clearTimeout(timer);
}

describe('in Chromium, against gzload and gzmem serve', { skip }, () => {
  let gz: DpdkProc | undefined;
  let serve: ChildProcess | undefined;
  let serveLog = '';
  let dbDir: string | undefined;
  let browserServer: BrowserServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let base = '';
  const pageErrors: string[] = [];

  before(
    async () => {
      buildDashboard();
      gz = await startGzload({
        eal: ['--lcores', '0@0,1@1,2@1'],
        app: ['--stacks', '2', '--tcp_conn_count', '32', '--pattern', 'burst', '--hold', '8'],
        env: { LD_PRELOAD: PRELOAD },
      });

      dbDir = mkdtempSync(join(tmpdir(), 'gzmem-e2e-'));
      const port = await freePort();
      base = `http://127.0.0.1:${port}/`;
      // Records only our gzload, so other DPDK processes on the machine do not matter.
      serve = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(ROOT, 'src', 'cli', 'main.ts'),
          'serve',
          gz.prefix,
          '--port',
          String(port),
          '--db',
          join(dbDir, 'gzmem.db'),
          '-i',
          '1',
        ],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const keep = (b: Buffer) => (serveLog = (serveLog + b.toString()).slice(-8000));
      serve.stdout!.on('data', keep);
      serve.stderr!.on('data', keep);
      await until(
        () => `gzmem serve to record ${gz!.prefix}; its output: ${serveLog}`,
        30_000,
        async () => {
          const body = (await (await fetch(`${base}api/targets`)).json()) as { targets: { key: string }[] };
          return body.targets.some((t) => t.key === gz!.prefix) ? true : undefined;
        },
        () => (serve!.exitCode !== null ? `gzmem serve exited with ${serve!.exitCode}: ${serveLog}` : undefined),
      );

      const { chromium } = await import('playwright-core');
      // launchServer, not launch: it tells the browser's PID, so `after` can stop it whatever happens.
      // Playwright gives the browser a fresh temporary --user-data-dir of its own.
      browserServer = await chromium.launchServer({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      browser = await chromium.connect(browserServer.wsEndpoint());
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(base);
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      // Each step on its own: one failing must not leave the others running.
      const steps: [string, () => Promise<unknown>][] = [
        [
          'screenshot',
          async () => {
            if (!page) return;
            mkdirSync(OUTPUT, { recursive: true });
            await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true });
          },
        ],
        [
          'browser',
          async () => {
            const chromium = browserServer?.process();
            await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]);
            await Promise.race([browserServer?.close(), new Promise((r) => setTimeout(r, 5000))]);
            if (chromium && chromium.exitCode === null && chromium.signalCode === null) chromium.kill('SIGKILL');
          },
        ],
        ['gzmem serve', () => stopChild(serve)],
        ['gzload', () => stop(gz)],
        ['database', async () => dbDir && rmSync(dbDir, { recursive: true, force: true })],
      ];
      const failed: string[] = [];
      for (const [name, step] of steps)
        await step().catch((err: unknown) => failed.push(`${name}: ${err instanceof Error ? err.message : String(err)}`));
      assert.deepEqual(failed, [], 'cleanup');
    },
    { timeout: 60_000 },
  );

  const text = (selector: string) =>
    page!
      .locator(selector)
      .first()
      .textContent({ timeout: 15_000 })
      .then((t) => (t ?? '').trim());

  test('the target appears in the picker and can be selected', { timeout: 30_000 }, async () => {
    const option = page!.locator(`#target option[value="${gz!.prefix}"]`);
    await option.waitFor({ state: 'attached', timeout: 15_000 });
    assert.match((await option.textContent()) ?? '', new RegExp(`gzload · pid ${gz!.pid} · ${gz!.prefix} · alive`));
    await page!.selectOption('#target', gz!.prefix);
    assert.equal(await page!.inputValue('#target'), gz!.prefix);
    assert.match(await page!.evaluate(() => location.hash), new RegExp(`#target=${gz!.prefix}$`));
  });

  test('the waterfall shows bytes for every level, each within the one above', { timeout: 30_000 }, async () => {
    await page!.waitForFunction(() => document.querySelectorAll('#waterfall tbody tr[data-level]').length === 4, null, { timeout: 15_000 });
    for (const level of ['reserved', 'heap', 'allocated', 'inUse']) {
      assert.match(await text(`#waterfall tr[data-level="${level}"] .bytes`), BYTES, level);
    }
    // Reserved is what the kernel says the process maps: the cell shows exactly that.
    const kib = Number(/HugetlbPages:\s+(\d+) kB/.exec(readFileSync(`/proc/${gz!.pid}/status`, 'utf8'))![1]);
    assert.equal(await text('#waterfall tr[data-level="reserved"] .bytes'), bytes(kib * 1024));
    // The percentages of the level above are real percentages (the preload makes in use known).
    for (const level of ['heap', 'allocated', 'inUse']) {
      const pct = await text(`#waterfall tr[data-level="${level}"] td:nth-child(3)`);
      assert.match(pct, /^\d+\.\d%$/, level);
      assert.ok(Number.parseFloat(pct) <= 100, `${level}: ${pct}`);
    }
  });

  test('the per-stack table has one row per gazelle stack', { timeout: 30_000 }, async () => {
    await page!.waitForFunction(() => document.querySelectorAll('#stacks tbody tr').length > 0, null, { timeout: 15_000 });
    const names = await page!.locator('#stacks tbody tr td:first-child').allTextContents();
    assert.deepEqual(names, ['gazellelstack00', 'gazellelstack01']);
    const headers = await page!.locator('#stacks thead th').allTextContents();
    for (const h of ['stack', 'tid', 'cpu', 'total', 'used', 'free', 'usage', 'mbufs in use / total', 'rings', 'in rings', 'rings peak'])
      assert.ok(headers.includes(h), `header ${h} in ${headers.join(', ')}`);
    const mbufs = await text('#stacks tbody tr td:nth-child(8)');
    assert.match(mbufs, /^[\d,]+ \/ [\d,]+$/);
    // Against gzload's own account: each row's tid, and its pool's size as the mbuf total.
    gz!.send!('truth');
    const truth = JSON.parse(await gz!.nextLine!()) as {
      stacks: { name: string; tid: number; pool: string }[];
      pools: { name: string; size: number }[];
    };
    const rows = await page!.locator('#stacks tbody tr').all();
    for (const [i, s] of truth.stacks.entries()) {
      const cells = await rows[i]!.locator('td').allTextContents();
      assert.equal(cells[0], s.name);
      assert.ok(cells.includes(String(s.tid)), `tid ${s.tid} in ${cells.join(' | ')}`);
      const size = truth.pools.find((p) => p.name === s.pool)!.size;
      assert.ok(cells[7]!.endsWith(`/ ${size.toLocaleString('en-US')}`), `${cells[7]} ends with the pool size ${size}`);
      // The sampler's window ends with the walk that gave "in rings": its peak is never below it.
      const entries = Number(cells[9]!.replaceAll(',', ''));
      const peak = Number(cells[10]!.replaceAll(',', ''));
      assert.ok(Number.isInteger(entries) && Number.isInteger(peak) && peak >= entries, `in rings ${cells[9]}, peak ${cells[10]}`);
    }
  });

  test('live samples move the in-use figure and the chart within 10 s', { timeout: 30_000 }, async () => {
    await page!.waitForFunction(() => Number(document.querySelector<HTMLElement>('#panel-process')?.dataset.points) > 0, null, {
      timeout: 15_000,
    });
    const inUse = await text('#waterfall tr[data-level="inUse"] .bytes');
    const points = Number(await page!.getAttribute('#panel-process', 'data-points'));
    const draws = Number(await page!.getAttribute('#panel-process', 'data-draws'));
    await page!.waitForFunction(
      ([was, p, d]) => {
        const panel = document.querySelector<HTMLElement>('#panel-process')!;
        const now = document.querySelector('#waterfall tr[data-level="inUse"] .bytes')?.textContent;
        return now !== was && Number(panel.dataset.points) > p && Number(panel.dataset.draws) > d;
      },
      [inUse, points, draws] as const,
      { timeout: 10_000 },
    );
    assert.equal(await page!.getAttribute('#panel-process', 'data-resolution'), 'live');
    // Each stack and each pool has its line.
    const legend = await page!.locator('#panel-stack .u-legend .u-label').allTextContents();
    assert.ok(legend.includes('gazellelstack00') && legend.includes('gazellelstack01'), legend.join(', '));
  });

  test('a past window asks the server for that range and redraws', { timeout: 30_000 }, async () => {
    const draws = Number(await page!.getAttribute('#panel-process', 'data-draws'));
    const asked = page!.waitForRequest((r) => r.url().includes('/api/series?') && r.url().includes('scope=process'), { timeout: 10_000 });
    await page!.click('#windows [data-window="5m"]');
    const q = new URL((await asked).url()).searchParams;
    assert.equal(q.get('target'), gz!.prefix);
    assert.equal(Number(q.get('to')) - Number(q.get('from')), 300_000);
    assert.ok(Number(q.get('maxPoints')) >= 50, `maxPoints ${q.get('maxPoints')}`);
    await page!.waitForFunction(
      (d) => {
        const panel = document.querySelector<HTMLElement>('#panel-process')!;
        return panel.dataset.resolution !== 'live' && Number(panel.dataset.draws) > d && Number(panel.dataset.points) > 0;
      },
      draws,
      { timeout: 10_000 },
    );
    assert.equal(await page!.getAttribute('#windows [data-window="5m"]', 'aria-pressed'), 'true');
    assert.match(await text('#series-status'), /points/);
  });

  test('alerts and right-sizing: the memory line, and the advice the CLI gives from the same history', { timeout: 60_000 }, async () => {
    assert.match(await text('#alert-line'), /^memory: /);
    const snap = (await (await fetch(`${base}api/snapshot?target=${gz!.prefix}`)).json()) as { processes: { alerts: unknown[] }[] };
    assert.equal(await page!.locator('#alerts li').count(), snap.processes[0]!.alerts.length);
    await page!.waitForFunction(() => /--socket-mem \d+/.test(document.querySelector('#advice-summary')?.textContent ?? ''), null, {
      timeout: 40_000,
    });
    const summary = await text('#advice-summary');
    const rows = await page!.locator('#advice-changes tbody tr').all();
    const shown = new Map<string, string>();
    for (const r of rows) {
      const cells = await r.locator('td').allTextContents();
      shown.set(cells[0]!, cells[2]!);
    }
    // The CLI, a separate process, reads the same database over the same window.
    const cli = await gzmem(['advise', gz!.prefix, '--window', '5m', '--db', join(dbDir!, 'gzmem.db'), '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const advice = (JSON.parse(cli.stdout) as { advice: { changes: { key: string; to: number | string }[]; socketMemMiB: number[] } })
      .advice;
    assert.equal(shown.get('mbuf_count_per_conn'), String(advice.changes.find((c) => c.key === 'mbuf_count_per_conn')?.to));
    assert.match(summary, new RegExp(`--socket-mem ${advice.socketMemMiB.join(',')},`));
  });

  test('POSIX calls: a row per thread and call the preload counted, and a rate chart per thread', { timeout: 30_000 }, async () => {
    await page!.waitForFunction(() => document.querySelectorAll('#calls tbody tr').length > 0, null, { timeout: 15_000 });
    const snap = (await (await fetch(`${base}api/snapshot?target=${gz!.prefix}`)).json()) as {
      processes: { posixCalls: { tid: number; call: string }[] | null }[];
    };
    const counted = new Set(snap.processes[0]!.posixCalls!.map((c) => c.call));
    const shown = await page!.locator('#calls tbody tr td:nth-child(3)').allTextContents();
    for (const call of shown) assert.ok(counted.has(call), `${call} is one the preload counted (${[...counted].join(', ')})`);
    // gzload's telemetry threads read and write: their rate shows once two samples are in.
    await page!.waitForFunction(() => Number(document.querySelector<HTMLElement>('#panel-calls')?.dataset.points) > 1, null, { timeout: 15_000 });
  });

  test('the page raised no script error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
