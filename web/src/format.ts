// Pure text formatting for the dashboard: binary byte units, counts, percentages, times.

export const DASH = '–';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.50 KiB": three significant digits in binary units; null → "–". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${sign}${v} B`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${UNITS[u]}`;
}

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

export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

/** part / whole as "12.3 %"; "–" when either is unknown or whole is 0. */
export function percent(part: number | null | undefined, whole: number | null | undefined): string {
  const r = ratio(part, whole);
  return r === null ? DASH : pct(r);
}

export function ratio(part: number | null | undefined, whole: number | null | undefined): number | null {
  if (part === null || part === undefined || whole === null || whole === undefined || whole === 0) return null;
  return part / whole;
}

/** A 0..1 ratio as "12.3 %". */
export function pct(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return DASH;
  return `${(r * 100).toFixed(1)} %`;
}

/** Milliseconds or an ISO string → "2026-11-24 22:45:56" in local time. */
export function time(t: number | string): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return DASH;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A duration in seconds as "5 min", "6 h", "7 days". */
export function span(sec: number): string {
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
