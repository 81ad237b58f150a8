// Fixture hosts (captured real machines, see test/fixtures/import.sh) and a telemetry replay.

import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Host } from '../../src/collect/host.js';
import { parseHello, parseReply, type TelemetryConnection } from '../../src/collect/telemetry-socket.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export const SCENARIOS = {
  'gazelle-idle': 9978,
  'gazelle-conn10': 9978,
  'gazelle-conn100': 9978,
  'gazelle-closed': 9978,
  testpmd: 11965,
  // testpmd of each DPDK version of the matrix, captured by test/fixtures/capture-dpdk.sh
  'testpmd-21.11.9': 17081,
  'testpmd-22.11.11': 16975,
  'testpmd-23.11.7': 17186,
  'testpmd-24.11.6': 17286,
} as const;

export const VERSION_SCENARIOS = ['testpmd-21.11.9', 'testpmd-22.11.11', 'testpmd-23.11.7', 'testpmd-24.11.6'] as const;

export type Scenario = keyof typeof SCENARIOS;

export function fixtureDir(scenario: Scenario): string {
  return join(FIXTURES, 'hosts', scenario);
}

export function fixtureHost(scenario: Scenario): Host {
  const dir = fixtureDir(scenario);
  const at = readFileSync(join(dir, 'captured_at_utc.txt'), 'utf8').trim();
  return {
    procRoot: join(dir, 'proc'),
    sysRoot: join(dir, 'sys'),
    dpdkRuntimeDirs: [],
    now: () => new Date(Date.parse(at) || 0),
  };
}

/** The capture's file name for a command: '/' -> '_', ',' -> '__', leading '/' dropped. */
export function replyFile(command: string): string {
  if (command === '/') return 'root.json';
  return `${command.slice(1).replace(/,/g, '__').replace(/\//g, '_')}.json`;
}

/** Replays the captured raw replies through the real parsers; an uncaptured command fails the test. */
export function replayTelemetry(scenario: Scenario): TelemetryConnection & { sent: string[] } {
  const dir = join(fixtureDir(scenario), 'telemetry');
  const sent: string[] = [];
  return {
    hello: parseHello(readFileSync(join(dir, '_connect_greeting.json'), 'utf8'), dir),
    sent,
    async cmd(command: string) {
      sent.push(command);
      const file = join(dir, replyFile(command));
      if (!existsSync(file)) throw new Error(`fixture ${scenario} has no reply for ${command}`);
      return parseReply(readFileSync(file, 'utf8'), command);
    },
    setDeadline() {},
    isClosed: () => false,
    close() {},
  };
}

/** Reads one captured reply's data, for assertions against the raw capture. */
export function capturedReply(scenario: Scenario, command: string): unknown {
  const text = readFileSync(join(fixtureDir(scenario), 'telemetry', replyFile(command)), 'utf8');
  return parseReply(text, command);
}
