import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leakTrend, type TrendPoint } from '../../src/analysis/leaks.js';

/** One point a second for `seconds`, in-use from `f(t)`. */
const series = (seconds: number, f: (t: number) => number): TrendPoint[] =>
  Array.from({ length: seconds }, (_, t) => ({ ts: t * 1000, inUse: Math.round(f(t)) }));

test('a floor that rises every quarter is a leak, with its rate and time to exhaustion', () => {
  const v = leakTrend(
    series(40, (t) => 300 + 64 * t + (t % 2) * 500),
    17_000,
  );
  assert.ok(v);
  assert.ok(Math.abs(v.perSecond - 64) < 8, `${v.perSecond}/s`);
  assert.ok(v.secondsToExhaustion! > 200 && v.secondsToExhaustion! < 260, `${v.secondsToExhaustion} s`);
});

test('bursts, steady jitter, a fall, a short window and a rise within noise are not leaks', () => {
  assert.equal(
    leakTrend(
      series(60, (t) => (Math.floor(t / 5) % 2 ? 5000 : 300)),
      17_000,
    ),
    null,
    'burst',
  );
  assert.equal(
    leakTrend(
      series(60, (t) => 280 + ((t * 7) % 13)),
      17_000,
    ),
    null,
    'steady',
  );
  assert.equal(
    leakTrend(
      series(60, (t) => 300 + 64 * t - (t > 50 ? 3000 : 0)),
      17_000,
    ),
    null,
    'fell back',
  );
  assert.equal(
    leakTrend(
      series(15, (t) => 300 + 64 * t),
      17_000,
    ),
    null,
    'shorter than 20 s',
  );
  assert.equal(
    leakTrend(
      series(60, (t) => 300 + t),
      17_000,
    ),
    null,
    'rose 60 of 17,000: noise',
  );
});
