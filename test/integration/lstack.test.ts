// `gzmem lstack show` on gzload started with an lstack.conf, against gzload's in-process truth.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../src/model/snapshot.js';
import { gzmem, hugepagesMissing, startGzload, stop, type DpdkProc, PRELOAD } from '../helpers/dpdk.js';

interface Truth {
  stacks: { id: number; tid: number; cpu: number; name: string; held: number; pool: string }[];
  rings: { name: string; capacity: number; count: number }[];
  pools: { name: string; size: number; in_use: number; elt_size: number; header_size: number; trailer_size: number }[];
  memzones: { name: string; len: number }[];
}

const skip = hugepagesMissing();
const dir = mkdtempSync(join(tmpdir(), 'gzmem-lstack-'));
const conf = join(dir, 'lstack.conf');
const ip = '192.0.2.9';
let gz: DpdkProc | undefined;
let truth: Truth;

before(async () => {
  if (skip) return;
  // gazelle's tcp_conn_count is the process's (two stacks of gzload's 40).
  writeFileSync(conf, `# gazelle-style config for gzload\ndpdk_args=["--file-prefix", "x"]\ntcp_conn_count = 80\nmbuf_count_per_conn = 20\nnic_rxqueue_size = 256\nnic_txqueue_size = 128\nnum_cpus="1,2"\nhost_addr="${ip}"\n`);
  gz = await startGzload({
    eal: ['--lcores', '0@0,1@1,2@1'],
    app: ['--stacks', '2', '--tcp_conn_count', '40', '--mbuf_count_per_conn', '20', '--nic_rxqueue_size', '256', '--nic_txqueue_size', '128', '--pattern', 'steady', '--hold', '3'],
    // With the preload, as gazelle users run it: LD_PRELOAD="libgzmem.so liblstack.so".
    env: { LSTACK_CONF_PATH: conf, LD_PRELOAD: PRELOAD },
  });
  await new Promise((r) => setTimeout(r, 400));
  gz.send!('pause');
  await gz.nextLine!();
  gz.send!('truth');
  truth = JSON.parse(await gz.nextLine!()) as Truth;
});
after(async () => {
  await stop(gz);
  rmSync(dir, { recursive: true, force: true });
});

test('found by the host_addr of its lstack.conf; per-stack figures equal the in-process truth', { skip }, async () => {
  const r = await gzmem(['lstack', 'show', ip, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Snapshot;
  const view = s.lstack![0]!;
  assert.equal(view.pid, gz!.pid);
  assert.equal(view.params.confPath, conf);
  assert.equal(view.params.tcpConnCount, 80);
  assert.equal(view.params.expectedMbufsPerStack, (80 * 20) / 2 + 2 * 256 + 128 + 1024);
  assert.deepEqual(view.notes, []);
  assert.equal(view.stacks.length, truth.stacks.length);
  for (const t of truth.stacks) {
    const v = view.stacks.find((x) => x.tid === t.tid)!;
    assert.equal(v.name, t.name);
    assert.equal(v.cpu, t.cpu);
    assert.equal(v.mbufs, view.params.expectedMbufsPerStack);
    assert.equal(v.mbufsInUse, t.held);
    // Its connection rings (rte_malloc memory, created by the stack thread) are counted with it.
    const rings = truth.rings.filter((r) => r.name.startsWith(`sock_recv_${t.id}_`) || r.name.startsWith(`sock_send_${t.id}_`));
    assert.equal(v.rings.count, 2 * 40);
    assert.equal(v.rings.count, rings.length);
    assert.equal(v.rings.entries, rings.reduce((a, r) => a + r.count, 0));
    // Ground truth: the memzones the process itself lists, owned by this stack's pools or tid.
    const pools = truth.pools.filter((p) => p.name === t.pool || p.name === `rpc_pool_${t.tid}`);
    const owned = truth.memzones.filter((z) => z.name.endsWith(`_${t.tid}`) || pools.some((p) => z.name === `MP_${p.name}` || z.name === `RG_MP_${p.name}` || z.name.startsWith(`MP_${p.name}_`)));
    assert.equal(v.totalBytes, owned.reduce((a, z) => a + z.len, 0) + v.rings.bytes!);
    const free = pools.reduce((a, p) => a + (p.size - p.in_use) * (p.elt_size + p.header_size + p.trailer_size), 0);
    assert.equal(v.freeBytes, free);
    assert.equal(v.usedBytes, v.totalBytes - free);
  }
});

test('by pid, to the terminal and to a file (-m <file>), and as CSV', { skip }, async () => {
  const t = await gzmem(['lstack', 'show', String(gz!.pid), '-m']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /TOTAL_MEM\s+USED_MEM\s+FREE_MEM\s+MEM_USAGE/);
  for (const s of truth.stacks) assert.match(t.stdout, new RegExp(`${s.name}\\s+${s.tid}\\s+${s.cpu}\\s`));
  const file = join(dir, 'out.txt');
  const f = await gzmem(['lstack', 'show', String(gz!.pid), '-m', file]);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(readFileSync(file, 'utf8'), t.stdout);
  const c = await gzmem(['lstack', 'show', String(gz!.pid), '--csv']);
  const rows = c.stdout.trim().split('\n');
  assert.equal(rows.length, 1 + truth.stacks.length);
  assert.match(rows[0]!, /^pid,stack,name,tid,cpu_id,total_mem,used_mem,free_mem,mem_usage/);
});

test('an address no process has', { skip }, async () => {
  const r = await gzmem(['lstack', 'show', '192.0.2.250']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no gazelle process with host_addr 192\.0\.2\.250/);
});

test('gazellectl is asked only with --gazellectl, and the view says what asking does', { skip }, async () => {
  // A stand-in gazellectl on PATH that logs each call and answers as gazelle's does, with the stack
  // tids of this gzload and the free counts gzload itself reports.
  const bin = join(dir, 'bin');
  const log = join(dir, 'gazellectl.log');
  mkdirSync(bin, { recursive: true });
  const report = truth.stacks.map((s) => {
    const pool = truth.pools.find((p) => p.name === s.pool)!;
    return `------ stack tid: ${s.tid} ------\nrx_pkts: 0 mbuf_pool_freecnt: ${pool.size - pool.in_use}\n`;
  }).join('');
  writeFileSync(join(bin, 'gazellectl'), `#!/bin/sh\necho "$@" >> ${log}\ncat <<'OUT'\n${report}OUT\n`, { mode: 0o755 });
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const quiet = await gzmem(['lstack', 'show', String(gz!.pid), '--json'], env);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(existsSync(log), false, 'not asked by default: asking makes gazelle allocate');
  const asked = await gzmem(['lstack', 'show', String(gz!.pid), '--gazellectl'], env);
  assert.equal(asked.code, 0, asked.stderr);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [`lstack show ${gz!.pid}`]);
  assert.match(asked.stdout, /gazellectl was asked \(--gazellectl\): gazelle allocates an rpc pool/);
  // gzload is paused: both read the same counts, and the line says they agree.
  for (const s of truth.stacks) assert.match(asked.stdout, new RegExp(`gazellectl: stack tid ${s.tid} .*: agree \\(read moments apart\\)`));
});
