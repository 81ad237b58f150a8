// How the CLI's process runs its JavaScript.

import { setFlagsFromString } from 'node:v8';

/**
 * Every command runs without V8's optimizing compilers. A one-shot command lives a tenth of a
 * second: they would spend memory (their threads and zones, some 5 MiB of peak RSS) and time on
 * code that never gets hot. A sampler (record, serve, show -i) runs the same code once a second,
 * or ten times, on a core it may share with the application: compiling it on helper threads cost
 * more than it saved. A 10 Hz recorder took 5.8–8.9 ms of CPU a second with them (1–3 of them
 * compiling, still after a minute), a 1 Hz one 6.4; without them 4.5–5.4 and 2.8–3.0, its main
 * thread no slower (bench/recorder.ts, docs/benchmarks.md). Code already optimized stays so.
 */
export function withoutOptimizingCompilers(): void {
  setFlagsFromString('--no-opt');
  setFlagsFromString('--no-maglev');
}
