// Human figures: binary units, percents, and "–" for what is unknown (never 0). The one formatter:
// the terminal, the files and the dashboard (web/src/format.ts re-exports it) print the same figure.

export const DASH = '–';

export const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB"; null → "–". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${sign}${v} B` : `${sign}${v.toFixed(1)} ${UNITS[i]}`;
}

/** part / whole as "12.5%"; "–" when either is unknown or whole is 0. */
export function percent(part: number | null | undefined, whole: number | null | undefined): string {
  return pct(ratio(part, whole));
}

export function ratio(part: number | null | undefined, whole: number | null | undefined): number | null {
  if (part === null || part === undefined || whole === null || whole === undefined || whole === 0) return null;
  return part / whole;
}

/** A 0..1 ratio as "12.5%". */
export function pct(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return DASH;
  return `${(r * 100).toFixed(1)}%`;
}

export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

export function text(s: string | null | undefined): string {
  return s === null || s === undefined || s === '' ? DASH : s;
}

/** Names come from the target: keep control characters out of the terminal. */
export function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
