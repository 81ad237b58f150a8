// `gzmem advise` against real gzload processes: the predictor from an lstack.conf alone against
// what five configurations really allocated (gzload's in-process heap statistics), and the closed
// loop: record a pattern, apply the advice, run the same pattern again with less memory and no
// allocation failure, the saving checked against the kernel's free hugepages.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRELOAD, freeHugepages, gzmem, hugepagesMissing, showProcess, startGzload, stop, type DpdkProc } from '../helpers/dpdk.js';
import { startRecord, stopChild } from '../helpers/serve.js';
import type { Prediction } from '../../src/analysis/predict.js';
import type { Advice } from '../../src/analysis/advice.js';

const skip = hugepagesMissing();
const dir = mkdtempSync(join(tmpdir(), 'gzmem-advise-'));
const running: DpdkProc[] = [];
after(async () => {
  for (const p of running) await stop(p);
  rmSync(dir, { recursive: true, force: true });
});

interface Truth {
  heaps: { heap_allocsz_bytes: number }[];
  stacks: { rx_empty: number }[];
}

/** gzload's EAL arguments for n stacks: the main lcore on CPU 0, the stacks on CPU 1. */
const lcores = (stacks: number) => ['--lcores', Array.from({ length: stacks + 1 }, (_, i) => `${i}@${Math.min(i, 1)}`).join(',')];

async function start(stacks: number, app: string[], eal: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<DpdkProc> {
  const gz = await startGzload({ eal: [...lcores(stacks), ...eal], app: ['--stacks', String(stacks), ...app], env });
  running.push(gz);
  return gz;
}

async function truth(gz: DpdkProc): Promise<Truth> {
  gz.send!('truth');
  return JSON.parse(await gz.nextLine!()) as Truth;
}

const configs = [
  { stacks: 1, conns: 64, perConn: 170 },
  { stacks: 2, conns: 1500, perConn: 20 },
  { stacks: 3, conns: 300, perConn: 100 },
  { stacks: 4, conns: 3000, perConn: 4 },
  { stacks: 1, conns: 3000, perConn: 30 },
];

test(
  'the predictor is within 5 % of what five gzload configurations allocated (1-4 stacks, 64-3,000 connections)',
  { skip, timeout: 300_000 },
  async (t) => {
    for (const c of configs) {
      const conf = join(dir, `gzload-${c.stacks}-${c.conns}.conf`);
      writeFileSync(
        conf,
        `dpdk_args=["--no-pci"]\nnum_cpus="${Array.from({ length: c.stacks }, () => '1').join(',')}"\n` +
          `tcp_conn_count=${c.conns}\nmbuf_count_per_conn=${c.perConn}\nnic_rxqueue_size=512\nnic_txqueue_size=512\nrecv_ring_size=128\nsend_ring_size=128\n`,
      );
      const gz = await start(c.stacks, [
        '--tcp_conn_count',
        String(c.conns),
        '--mbuf_count_per_conn',
        String(c.perConn),
        '--pattern',
        'idle',
      ]);
      try {
        const version = (await showProcess(String(gz.pid))).dpdkVersion!;
        const allocated = (await truth(gz)).heaps.reduce((sum, h) => sum + h.heap_allocsz_bytes, 0);
        const r = await gzmem(['advise', '--conf', conf, '--for', 'gzload', '--dpdk', version, '--json']);
        assert.equal(r.code, 0, r.stderr);
        const p = (JSON.parse(r.stdout) as { prediction: Prediction }).prediction;
        const error = (p.totalBytes - allocated) / allocated;
        t.diagnostic(
          `${c.stacks} stacks x ${c.conns} connections x ${c.perConn} mbufs (${version}): predicted ${p.totalBytes}, allocated ${allocated}, error ${(error * 100).toFixed(3)} %`,
        );
        assert.ok(Math.abs(error) <= 0.05, `${JSON.stringify(c)}: predicted ${p.totalBytes}, allocated ${allocated}`);
        assert.equal(p.nrHugepages, Math.ceil(p.totalBytes / 2 ** 21));
      } finally {
        await stop(gz);
      }
    }
  },
);

test(
  'closed loop: advice from a recorded burst runs the same burst with less memory and no allocation failure',
  { skip, timeout: 180_000 },
  async (t) => {
    const app = ['--tcp_conn_count', '64', '--pattern', 'burst'];
    const env = { LD_PRELOAD: PRELOAD };
    const before = freeHugepages();
    const first = await start(2, app, [], env);
    const pagesBefore = before - freeHugepages();
    const db = join(dir, 'loop.db');
  const none = await gzmem(['advise', first.prefix, '--window', '1m', '--db', db]);
  assert.equal(none.code, 3, 'no history yet');
  assert.match(none.stderr, /^gzmem: no history database .*loop\.db \(record first: gzmem record /);
    const rec = startRecord([first.prefix, '--db', db, '-i', '0.25', '--duration', '8']);
    assert.equal(await new Promise((r) => rec.child.once('exit', r)), 0, rec.stderr());
    const r = await gzmem(['advise', first.prefix, '--window', '1m', '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { advice } = JSON.parse(r.stdout) as { advice: Advice };
    assert.ok(
      advice.notes.some((n) => /No allocation failure/.test(n)),
      advice.notes.join('\n'),
    );
    const perConn = advice.changes.find((c) => c.key === 'mbuf_count_per_conn');
    const socketMem = advice.changes.find((c) => c.key === '--socket-mem');
    assert.ok(perConn && socketMem, JSON.stringify(advice.changes));
    await stop(first);
    await stopChild(rec);

    const free = freeHugepages();
    const second = await start(
      2,
      ['--tcp_conn_count', '64', '--mbuf_count_per_conn', String(perConn.to), '--pattern', 'burst'],
      ['--socket-mem', String(socketMem.to)],
      env,
    );
    const pagesAfter = free - freeHugepages();
    await new Promise((res) => setTimeout(res, 8000));
    const p = await showProcess(second.prefix);
    const failures = p.ethdevs.reduce((sum, e) => sum + (e.rxNombuf ?? 0), 0);
    const dry = (await truth(second)).stacks.reduce((sum, s) => sum + s.rx_empty, 0);
    await stop(second);
    t.diagnostic(
      `advised mbuf_count_per_conn ${perConn.from} -> ${perConn.to}, --socket-mem ${socketMem.to}; hugepages ${pagesBefore} -> ${pagesAfter}; saved ${advice.savedBytes} B`,
    );
    assert.equal(failures, 0, 'rx_nombuf with the advised settings');
    assert.equal(dry, 0, 'rx polls that found the pool dry');
    assert.ok(pagesAfter < pagesBefore);
    assert.equal(advice.savedBytes, (pagesBefore - pagesAfter) * 2 ** 21, "the printed saving is the kernel's free-page delta");
  },
);
