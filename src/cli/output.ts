// Where rendered text goes (stdout or a file) and the watch loop (-i <seconds> [count]).

import { appendFileSync, writeFileSync } from 'node:fs';
import { GzmemError, ExitCode, NotFoundError, TargetGoneError, UsageError, errorMessage } from '../errors.js';

export type Format = 'table' | 'json' | 'csv';

export interface OutputOptions {
  format: Format;
  file?: string;
  intervalSec?: number;
  count?: number;
}

export function writeOut(textOut: string, file: string | undefined, append = false): void {
  if (file === undefined) {
    process.stdout.write(textOut);
    return;
  }
  try {
    if (append) appendFileSync(file, textOut);
    else writeFileSync(file, textOut);
  } catch (err) {
    throw new GzmemError(`cannot write ${file}: ${errorMessage(err)}`, ExitCode.runtime);
  }
}

export function parseInterval(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n >= 0.01) || n > 86400)
    throw new UsageError(`interval must be a number of seconds from 0.01 to 86400, got ${JSON.stringify(value)}`);
  return n;
}

export function parseCount(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new UsageError(`count must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `frame` once, or every interval. On a terminal each frame replaces the last;
 * on a pipe or file frames are appended (JSON as one document per line).
 */
export async function emitFrames(options: OutputOptions, frame: (compact: boolean) => Promise<string>): Promise<void> {
  if (options.intervalSec === undefined) {
    writeOut(await frame(false), options.file);
    return;
  }
  const tty = options.file === undefined && process.stdout.isTTY === true;
  const compact = options.format === 'json' && !tty;
  for (let i = 0; options.count === undefined || i < options.count; i++) {
    const started = Date.now();
    let body: string;
    try {
      body = await frame(compact);
    } catch (err) {
      // Seen before and not found now: the target exited while watched, which is not "no such process".
      if (i > 0 && (err instanceof NotFoundError || err instanceof TargetGoneError))
        throw new TargetGoneError(`the target exited while being watched (${err.message})`);
      throw err;
    }
    if (tty) writeOut(`\x1b[H\x1b[2J${body}`, undefined);
    else writeOut(options.format === 'table' && i > 0 ? `\n${body}` : body, options.file, i > 0);
    if (options.count !== undefined && i + 1 >= options.count) break;
    await sleep(Math.max(0, options.intervalSec * 1000 - (Date.now() - started)));
  }
}
