// Pure text formatting for the dashboard: the CLI's units, plus axis ticks and times.

import { DASH, UNITS } from '../../src/format/units.js';

// Bytes, counts and percents are the CLI's own, so both show the same figure the same way.
export { DASH, bytes, count, pct, percent, ratio } from '../../src/format/units.js';

/** Axis ticks: whole binary units without trailing zeros ("512 MiB", "1.5 GiB"). */
export function bytesTick(n: number): string {
  if (n === 0) return '0';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n < 0 ? '-' : ''}${Number(v.toFixed(2))} ${UNITS[u]}`;
}

/** Tick steps for a byte axis: 1, 2, 4 … 512 of each binary unit, so ticks land on round sizes. */
export const BYTE_INCRS: number[] = UNITS.flatMap((_, u) => Array.from({ length: 10 }, (_, k) => 2 ** (10 * u + k)));

/** Milliseconds or an ISO string → "2026-11-24 22:45:56" in local time. */
export function time(t: number | string): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return DASH;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A duration in seconds as "5 min", "6 h", "7 days". */
export function span(sec: number): string {
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 3600) return `${Math.round(sec / 60)} min`;
  if (sec < 86400 * 2) return `${Math.round(sec / 3600)} h`;
  return `${Math.round(sec / 86400)} days`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Time-axis labels for ticks `splits` (seconds) spaced `incr` apart, 24-hour local time: the clock,
 * with the date on a second line at the first tick and wherever the day changes.
 */
export function timeTicks(splits: number[], incr: number): string[] {
  const p = (n: number) => String(n).padStart(2, '0');
  let lastDay = '';
  return splits.map((s) => {
    const d = new Date(s * 1000);
    const day = `${MONTHS[d.getMonth()]} ${d.getDate()}`;
    if (incr >= 86400) return day;
    const clock = incr < 60 ? `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` : `${p(d.getHours())}:${p(d.getMinutes())}`;
    const label = day !== lastDay ? `${clock}\n${day}` : clock;
    lastDay = day;
    return label;
  });
}
