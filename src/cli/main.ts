#!/usr/bin/env node
// gzmem's entry point: parses the command line, runs one command, and is the only place that exits.
// Each command's module is imported when it runs, so --version or a usage error loads no SQLite,
// HTTP server, metrics or FFI.

import { Command, CommanderError, Option } from 'commander';
import { withoutOptimizingCompilers } from './runtime.js';
import { liveHost } from '../collect/host.js';
import { ExitCode, GzmemError, UsageError } from '../errors.js';
import { parseCount, parseInterval, type Format, type OutputOptions } from './output.js';
import type { RecordOptions } from './record.js';
import { stoppedBy, stopsGracefully } from './signals.js';
import { VERSION } from './version.js';

interface CommonFlags {
  attach: boolean;
  json?: boolean;
  csv?: boolean;
  output?: string;
  interval?: string;
  timeout: string;
  /** lstack show only. */
  gazellectl?: boolean;
  calls?: boolean;
}

function outputOptions(
  flags: CommonFlags,
  countArg: string | undefined,
  memoryFile?: string,
): OutputOptions & { timeoutMs: number; attach: boolean; gazellectl: boolean; calls: boolean } {
  if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
  if (flags.output !== undefined && memoryFile !== undefined) throw new UsageError('give the output file once: -m <file> or -o <file>');
  if (countArg !== undefined && flags.interval === undefined)
    throw new UsageError(`unexpected argument ${JSON.stringify(countArg)} (a count goes with -i <seconds>)`);
  const format: Format = flags.json ? 'json' : flags.csv ? 'csv' : 'table';
  const timeoutMs = parseTimeout(flags.timeout);
  const file = memoryFile ?? flags.output;
  return {
    format,
    timeoutMs,
    attach: flags.attach,
    gazellectl: flags.gazellectl === true,
    calls: flags.calls === true,
    ...(file !== undefined ? { file } : {}),
    ...(flags.interval !== undefined ? { intervalSec: parseInterval(flags.interval) } : {}),
    ...(countArg !== undefined ? { count: parseCount(countArg) } : {}),
  };
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON document (schema in docs/snapshot.md)')
    .option('--csv', 'print CSV, one figure per row')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .option('-i, --interval <seconds>', 'repeat every <seconds>; an optional [count] after it stops after that many')
    .option('--no-attach', 'do not read pool occupancy from /proc/<pid>/mem')
    .addOption(new Option('--timeout <ms>', 'telemetry connect/read timeout').default('1000'));
}

interface RecordFlags {
  db: string;
  interval: string;
  keepSnapshots?: boolean;
  attach: boolean;
  timeout: string;
}

function recordOptions(targets: string[], flags: RecordFlags): RecordOptions {
  return {
    db: flags.db,
    intervalSec: parseInterval(flags.interval),
    targets,
    keepSnapshots: flags.keepSnapshots === true,
    timeoutMs: parseTimeout(flags.timeout),
    attach: flags.attach,
  };
}

function parseTimeout(value: string): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 10 || ms > 60000) throw new UsageError(`--timeout must be 10..60000 ms, got ${JSON.stringify(value)}`);
  return ms;
}

export function buildProgram(): Command {
  const host = liveHost();
  const program = new Command('gzmem')
    .description('How much hugepage memory DPDK and gazelle processes reserve, allocate and use')
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `gzmem: ${s.slice(7)}` : s) });

  withCommonOptions(
    program.command('list').description('list DPDK processes: pid, command, prefix, reserved, allocated; orphaned hugepage files'),
  )
    .argument('[count]', 'with -i: number of refreshes')
    .action(async (count: string | undefined, flags: CommonFlags) =>
      (await import('./list.js')).runList(host, outputOptions(flags, count)),
    );

  // `show` and `lstack show` share gazellectl's `<target> -m [file]` shape.
  const showCommand = (cmd: Command, target: string, run: (target: string, o: ReturnType<typeof outputOptions>) => Promise<void>) =>
    withCommonOptions(cmd)
      .argument('<target>', target)
      .argument('[count]', 'with -i: number of refreshes')
      .option('-m, --memory [file]', 'memory view (the default), optionally written to <file>')
      .action((t: string, count: string | undefined, flags: CommonFlags & { memory?: string | boolean }) =>
        run(t, outputOptions(flags, count, typeof flags.memory === 'string' ? flags.memory : undefined)),
      );

  showCommand(
    program.command('show').description('show one process: waterfall, heaps, mempools, memzones, rings, ports, threads'),
    'pid or DPDK --file-prefix of the process',
    async (t, o) => (await import('./show.js')).runShow(host, t, o),
  );

  const lstack = program.command('lstack').description('gazelle: memory per protocol-stack thread (gazellectl style)');
  showCommand(
    lstack.command('show').description('per stack: total/used/free memory, usage, CPU, thread, the lstack.conf values that sized it'),
    'pid of the gazelle process, or the host_addr of its lstack.conf',
    async (t, o) => (await import('./lstack.js')).runLstackShow(host, t, o),
  )
    .option('--gazellectl', 'also ask gazellectl and compare (not read-only: gazelle allocates an rpc pool on the first request)')
    .option('-C, --calls', 'also the POSIX calls each thread made (counted by the preload)');

  const recordFlags = (cmd: Command) =>
    cmd
      .argument('[target...]', 'file prefixes or pids to record (default: every DPDK process)')
      .option('--db <file>', 'history database (SQLite)', 'gzmem.db')
      .option('-i, --interval <seconds>', 'sampling interval', '1')
      .option('--keep-snapshots', 'also keep every whole snapshot (for the raw-retention window)')
      .option('--no-attach', 'do not read pool occupancy from /proc/<pid>/mem')
      .addOption(new Option('--timeout <ms>', 'telemetry connect/read timeout').default('1000'));

  recordFlags(program.command('record').description('sample DPDK processes into a history database until stopped'))
    .option('--duration <seconds>', 'stop after this long')
    .action((targets: string[], flags: RecordFlags & { duration?: string }) =>
      import('./record.js').then(({ runRecord }) =>
        runRecord(host, {
          ...recordOptions(targets, flags),
          ...(flags.duration !== undefined ? { durationSec: parseInterval(flags.duration) } : {}),
        }),
      ),
    );

  recordFlags(program.command('serve').description('record, and serve the dashboard, REST/SSE API and Prometheus /metrics'))
    .option('--port <port>', 'TCP port', '9465')
    .option('--host <address>', 'address to bind (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--no-record', 'serve the history only, take no samples')
    .action((targets: string[], flags: RecordFlags & { port: string; host: string; record: boolean }) => {
      if (!/^\d{1,5}$/.test(flags.port) || Number(flags.port) > 65535)
        throw new UsageError(`--port must be 0..65535, got ${JSON.stringify(flags.port)}`);
      return import('./serve.js').then(({ runServe }) =>
        runServe(host, { ...recordOptions(targets, flags), port: Number(flags.port), host: flags.host, record: flags.record }),
      );
    });

  withCommonOptions(
    program.command('hugepages').description("the machine's hugepages per size and NUMA node, and orphaned hugetlbfs files"),
  )
    .argument('[count]', 'with -i: number of refreshes')
    .action(async (count: string | undefined, flags: CommonFlags) =>
      (await import('./hugepages.js')).runHugepages(host, outputOptions(flags, count)),
    );

  program
    .command('advise')
    .description("right-size: predict an lstack.conf's hugepages (--conf), or advise settings from what a process used")
    .argument('[target]', 'pid, host_addr or file prefix of the process to advise')
    .option('--conf <file>', 'predict from this lstack.conf alone, before anything starts')
    .addOption(new Option('--for <profile>', 'what reads the lstack.conf').choices(['gazelle', 'gzload']).default('gazelle'))
    .option('--dpdk <release>', "DPDK release to size for (default: the installed libdpdk, or the target's)")
    .addOption(new Option('--arch <arch>', 'architecture to size for').choices(['x86_64', 'aarch64']))
    .option('--connections <n>', 'connections open in the process (default: the most tcp_conn_count admits)')
    .option('--app-threads <n>', 'application threads that use sockets (each gets an rpc pool)')
    .option('--page-size <MiB>', "hugepage size in MiB (default: the machine's)")
    .option('--headroom <factor>', 'advice keeps peak x factor', '1.3')
    .option('--window <duration>', 'advise from the recorded history of this window (90s, 30m, 24h, 7d)')
    .option('--db <file>', 'history database (with --window)', 'gzmem.db')
    .option('--json', 'print one JSON document')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .addOption(new Option('--timeout <ms>', 'telemetry connect/read timeout').default('1000'))
    .action(async (target: string | undefined, flags: AdviseFlags) => {
      const advise = await import('./advise.js');
      const o = adviseOptions(flags, advise.parseWindow);
      if (flags.conf !== undefined) {
        if (target !== undefined) throw new UsageError('give either a target or --conf <file>, not both');
        return advise.runPredict(host, { ...o, conf: flags.conf });
      }
      if (target === undefined) throw new UsageError('advise needs a target (pid, host_addr or prefix) or --conf <file>');
      return advise.runAdvise(host, target, o);
    });

  return program;
}

interface AdviseFlags {
  conf?: string;
  for: 'gazelle' | 'gzload';
  dpdk?: string;
  arch?: 'x86_64' | 'aarch64';
  connections?: string;
  appThreads?: string;
  pageSize?: string;
  headroom: string;
  window?: string;
  db: string;
  json?: boolean;
  output?: string;
  timeout: string;
}

function positiveInt(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min)
    throw new UsageError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return Number(value);
}

function adviseOptions(f: AdviseFlags, parseWindow: (v: string) => number): import('./advise.js').AdviseOptions {
  const headroom = Number(f.headroom);
  if (!/^\d+(\.\d+)?$/.test(f.headroom) || headroom < 1 || headroom > 10)
    throw new UsageError(`--headroom must be a factor from 1 to 10, got ${JSON.stringify(f.headroom)}`);
  const pageMiB = positiveInt('--page-size', f.pageSize, 1);
  const connections = positiveInt('--connections', f.connections, 0);
  const appThreads = positiveInt('--app-threads', f.appThreads, 0);
  return {
    profile: f.for,
    headroom,
    db: f.db,
    json: f.json === true,
    timeoutMs: parseTimeout(f.timeout),
    ...(f.conf !== undefined ? { conf: f.conf } : {}),
    ...(f.dpdk !== undefined ? { dpdk: f.dpdk } : {}),
    ...(f.arch !== undefined ? { arch: f.arch } : {}),
    ...(connections !== undefined ? { connections } : {}),
    ...(appThreads !== undefined ? { appThreads } : {}),
    ...(pageMiB !== undefined ? { pageBytes: pageMiB * 2 ** 20 } : {}),
    ...(f.window !== undefined ? { windowMs: parseWindow(f.window) } : {}),
    ...(f.output !== undefined ? { file: f.output } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  withoutOptimizingCompilers();
  process.on('SIGINT', () => {
    if (!stopsGracefully()) process.exit(ExitCode.interrupted);
  });
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A closed pipe (gzmem ... | head) is a normal end.
    process.exit(err.code === 'EPIPE' ? ExitCode.ok : ExitCode.runtime);
  });
  try {
    await buildProgram().parseAsync(argv);
    return stoppedBy() === 'SIGINT' ? ExitCode.interrupted : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof GzmemError) {
      process.stderr.write(`gzmem: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`gzmem: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.GZMEM_DEBUG) console.error(err);
    return ExitCode.runtime;
  }
}

process.exitCode = await main(process.argv);
