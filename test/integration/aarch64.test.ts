// An aarch64 testpmd (DPDK cross-built by scripts/build-dpdk.sh) with the cross-built preload, run
// under qemu-user without hugepages, read by gzmem on this machine. scripts/run-tests.sh sets
// GZMEM_TEST_ARM_DPDK (the aarch64 install prefix) and GZMEM_TEST_ARM_NATIVE (native/ built for it).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzmem, uniquePrefix } from '../helpers/dpdk.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { dpdkBuild, mempoolLayout } from '../../src/analysis/dpdk-sizes.js';

const prefix = process.env.GZMEM_TEST_ARM_DPDK;
const native = process.env.GZMEM_TEST_ARM_NATIVE;
const skip = !prefix || !native ? 'GZMEM_TEST_ARM_DPDK and GZMEM_TEST_ARM_NATIVE not set (scripts/run-tests.sh sets them)' : undefined;
if (skip && process.env.CI === 'true') throw new Error(`CI runs the aarch64 test: ${skip}`);

const filePrefix = uniquePrefix('arm');
let pid: number | undefined;
after(() => {
  if (pid !== undefined)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  rmSync(join('/var/run/dpdk', filePrefix), { recursive: true, force: true });
});

test(
  'gzmem reads an aarch64 testpmd with the preload under qemu-user: exact pool counts, attach refused',
  { skip, timeout: 180_000 },
  async () => {
    const child = spawn(
      'qemu-aarch64-static',
      [
        join(prefix!, 'bin', 'dpdk-testpmd'),
        '-l',
        '0-1',
        '--no-huge',
        '-m',
        '256',
        '--no-pci',
        '--vdev',
        'net_null0',
        '--file-prefix',
        filePrefix,
        '--',
        '-i',
        '--total-num-mbufs=4096',
      ],
      {
        stdio: ['pipe', 'ignore', 'pipe'],
        env: {
          ...process.env,
          QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu',
          LD_LIBRARY_PATH: join(prefix!, 'lib'),
          LD_PRELOAD: join(native!, 'libgzmem.so'),
        },
      },
    );
    pid = child.pid;
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    const socket = join('/var/run/dpdk', filePrefix, 'dpdk_telemetry.v2');
    let snap: Snapshot | undefined;
    for (const end = Date.now() + 150_000; Date.now() < end && child.exitCode === null;) {
      if (existsSync(socket)) {
        const r = await gzmem(['show', String(pid), '--json']);
        // Emulated, testpmd answers telemetry before its pool exists: wait for the pool.
        if (r.code === 0) snap = JSON.parse(r.stdout) as Snapshot;
        if (snap?.processes[0]?.mempools.some((m) => m.name === 'mb_pool_0')) break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(child.exitCode, null, `testpmd under qemu exited: ${stderr}`);
    const p = snap?.processes[0];
    assert.ok(p, `gzmem read it: ${stderr}`);
    assert.equal(p.pid, pid);
    assert.equal(p.dpdkVersion, 'DPDK 23.11.7');
    assert.equal(p.sources.find((s) => s.name === 'preload')?.ok, true, JSON.stringify(p.sources));
    const pool = p.mempools.find((m) => m.name === 'mb_pool_0')!;
    assert.equal(pool.size, 4096);
    // Forwarding is not started (-i): the preload's count and telemetry's own agree exactly.
    assert.equal(pool.occupancy?.source, 'preload');
    assert.equal(pool.occupancy?.checks.find((c) => c.source === 'telemetry-occupancy')?.inUse, pool.occupancy?.inUse);
    assert.match(p.sources.find((s) => s.name === 'attach')?.detail ?? '', /aarch64/, 'the aarch64 layout is not trusted unverified');
    // The predictor's aarch64 sizes (128-byte lines, 256 lcores, no channel spreading), 4 KiB pages
    // under --no-huge: the pool's three memzones to the byte.
    const zone = (name: string) => p.memzones.find((z) => z.name === name)?.lengthBytes;
    const layout = mempoolLayout(
      dpdkBuild('23.11', 'aarch64')!,
      { count: pool.size, eltSize: pool.eltBytes, cacheSize: pool.cacheSize, privateDataSize: pool.privateDataBytes },
      p.memzones.find((z) => z.name === 'MP_mb_pool_0_0')!.hugepageBytes,
    );
    assert.equal(layout.objectBytes, pool.objectBytes);
    assert.deepEqual(
      [layout.poolZone, layout.ringZone, layout.objectZone],
      [zone('MP_mb_pool_0'), zone('RG_MP_mb_pool_0'), zone('MP_mb_pool_0_0')],
    );
    child.stdin!.end('quit\n');
  },
);
