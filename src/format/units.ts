// Human figures: binary units, percents, and "–" for what is unknown (never 0).

export const DASH = '–';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return DASH;
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${sign}${v} B` : `${sign}${v.toFixed(1)} ${UNITS[i]}`;
}

export function percent(part: number | null | undefined, whole: number | null | undefined): string {
  if (part === null || part === undefined || !whole) return DASH;
  return `${((part / whole) * 100).toFixed(1)}%`;
}

export function count(n: number | null | undefined): string {
  if (n === null || n === undefined) return DASH;
  return n.toLocaleString('en-US');
}

export function text(s: string | null | undefined): string {
  return s === null || s === undefined || s === '' ? DASH : s;
}

/** Names come from the target: keep control characters out of the terminal. */
export function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
