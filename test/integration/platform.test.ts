// Installs on linux-arm64 with nothing downloaded at install time: every native binary that
// `npm ci --os=linux --cpu=arm64` puts under node_modules is an aarch64 one, and every package that
// has none builds from its sources (node-gyp against Node's own headers).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elfArch } from '../../src/collect/attach.js';
import { ROOT } from '../helpers/fixtures.js';

function elfOf(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(20);
    return readSync(fd, header, 0, 20, 0) === 20 ? elfArch(header) : undefined;
  } finally {
    closeSync(fd);
  }
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && statSync(path).size >= 20) yield path;
  }
}

test('npm ci for linux-arm64 installs only aarch64 binaries, or sources that build', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-arm64-'));
  try {
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
    // --ignore-scripts: the install scripts would build or run binaries for this machine, not arm64.
    const r = spawnSync('npm', ['ci', '--os=linux', '--cpu=arm64', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', timeout: 280_000 });
    assert.equal(r.status, 0, `npm ci for arm64 accepts the lock: ${r.stderr}`);
    const modules = join(dir, 'node_modules');
    const binaries = [...files(modules)].map((path) => ({ path: path.slice(modules.length + 1), arch: elfOf(path) })).filter((b) => b.arch !== undefined);
    assert.ok(binaries.some((b) => b.path.includes('koffi')), 'the FFI that carries the telemetry transport has an arm64 build');
    for (const b of binaries) assert.equal(b.arch, 'aarch64', b.path);
    // A native package without a shipped binary must build from its own sources.
    assert.ok(existsSync(join(modules, 'better-sqlite3', 'binding.gyp')));
    assert.ok(existsSync(join(modules, 'better-sqlite3', 'deps')), 'better-sqlite3 ships SQLite, nothing to download');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
