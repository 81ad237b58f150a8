// A series' peak: its highest point and when it was. One rule for the history (over each bucket's
// maximum, so a coarse tier keeps the true peak) and for the dashboard's live window (its points).

export interface Peak {
  ts: number;
  value: number;
}

/** The highest value and its time (the first, if it repeats); undefined when every value is null. */
export function highestPoint(ts: readonly number[], values: readonly (number | null)[]): Peak | undefined {
  let best: Peak | undefined;
  values.forEach((v, i) => {
    if (v !== null && (!best || v > best.value)) best = { ts: ts[i]!, value: v };
  });
  return best;
}
