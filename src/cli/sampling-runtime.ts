// The runtime of a command that samples until stopped (record, serve, show -i).

import { setFlagsFromString } from 'node:v8';

/**
 * A sampler runs the same code once a second, or ten times, on a core it may share with the
 * application. V8's optimizing compiler, on helper threads, then costs more than it saves: with
 * it, a 10 Hz recorder took 5.8–8.9 ms of CPU a second (1–3 of them compiling, still after a
 * minute), a 1 Hz one 6.4; without it 4.5–5.4 and 2.8–3.0, its main thread no slower
 * (bench/recorder.ts, docs/benchmarks.md).
 * Code already optimized stays so; nothing is optimized from here on.
 */
export function settleForSampling(): void {
  setFlagsFromString('--no-opt');
}
