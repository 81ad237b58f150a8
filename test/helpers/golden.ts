// Golden files: compare output with test/golden/<name>; UPDATE_GOLDEN=1 rewrites them.

import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import assert from 'node:assert/strict';
import { ROOT } from './fixtures.js';

export function assertGolden(name: string, actual: string): void {
  const file = join(ROOT, 'test', 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  // A missing golden fails: a file the code under test writes for itself would check nothing.
  if (!existsSync(file)) assert.fail(`golden file test/golden/${name} is missing (UPDATE_GOLDEN=1 writes it; check it against independent truth)`);
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from test/golden/${name} (UPDATE_GOLDEN=1 to accept)`);
}
