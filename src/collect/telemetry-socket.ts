// The DPDK telemetry v2 transport: one SOCK_SEQPACKET connection, one JSON message per request.
// Only this module knows the wire protocol; everything else sees hello() and cmd().

import { lstatSync } from 'node:fs';
import { GzmemError, PermissionError, ProtocolError, TelemetryError, errorMessage } from '../errors.js';
import type { PeerCredentials, SeqpacketSocket } from './seqpacket.js';
import { errnoOf } from './files.js';

export interface TelemetryHello {
  version: string;
  pid: number;
  maxOutputLen: number;
}

export interface TelemetryConnection {
  readonly hello: TelemetryHello;
  /** Who is on the other end, as the kernel says (SO_PEERCRED); equal to the greeting's pid. */
  readonly peer?: PeerCredentials;
  /** Sends one command (`/cmd` or `/cmd,param`) and returns the value under its key (null = unknown/no data). */
  cmd(command: string): Promise<unknown>;
  /** A sampler keeps its connection open: each snapshot sets its own deadline. */
  setDeadline(deadline: number): void;
  /** Closed by either end, or after an error: a sampler opens a new one. */
  isClosed(): boolean;
  close(): void;
}

export interface TelemetryOptions {
  /** Longest wait for any one message. */
  timeoutMs?: number;
  /** performance.now() by which the whole conversation must be over: a snapshot never hangs past it. */
  deadline?: number;
}

/** EAL refuses longer commands (MAX_CMD_LEN 56 in 22.11, less the terminating byte). */
export const MAX_COMMAND_LENGTH = 55;

export function parseHello(text: string, path: string): TelemetryHello {
  const msg = parseJson(text, `greeting on ${path}`);
  if (!isRecord(msg) || typeof msg.version !== 'string' || !Number.isSafeInteger(msg.pid) || !Number.isSafeInteger(msg.max_output_len)) {
    throw new ProtocolError(`unexpected telemetry greeting on ${path}: ${text.slice(0, 120)}`);
  }
  return { version: msg.version, pid: msg.pid as number, maxOutputLen: msg.max_output_len as number };
}

/** A reply is `{"<cmd without params>": <data>}`; anything else is malformed. */
export function parseReply(text: string, command: string): unknown {
  const msg = parseJson(text, `reply to ${command}`);
  const key = command.split(',')[0] ?? command;
  if (!isRecord(msg) || !(key in msg)) {
    throw new ProtocolError(`malformed telemetry reply to ${command}: ${text.slice(0, 120)}`);
  }
  return msg[key];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(`malformed telemetry ${what}: not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function openTelemetry(path: string, options: TelemetryOptions = {}): Promise<TelemetryConnection> {
  const timeoutMs = options.timeoutMs ?? 1000;
  // Loaded here, not at the top: commands that never open a socket do not pay for the FFI.
  const { connectSeqpacket } = await import('./seqpacket.js');
  let socket: SeqpacketSocket;
  try {
    socket = connectSeqpacket(path);
  } catch (err) {
    throw connectError(err, path);
  }
  let closed = false;
  const close = () => {
    closed = true;
    socket.close();
  };
  let deadline = options.deadline ?? Infinity;
  const next = async (what: string): Promise<string> => {
    const left = deadline - performance.now();
    let got: Awaited<ReturnType<SeqpacketSocket['receive']>>;
    try {
      got = await socket.receive(Math.min(timeoutMs, Math.max(0, left)));
    } catch (err) {
      close();
      if (errnoOf(err) === 'EMSGSIZE')
        throw new ProtocolError(`telemetry socket ${path}: ${what} is larger than any DPDK reply (${errorMessage(err)})`);
      throw new TelemetryError(`telemetry socket ${path}: ${errorMessage(err)}`);
    }
    if (got === 'timeout') {
      // A reply that comes later must not answer the next command: this connection is done.
      close();
      if (left < timeoutMs) throw new TelemetryError(`telemetry socket ${path}: the snapshot passed its deadline waiting for ${what}`);
      throw new TelemetryError(`telemetry socket ${path}: no ${what} within ${timeoutMs} ms`);
    }
    if (got === 'closed') {
      close();
      throw new TelemetryError(`telemetry socket ${path}: closed by the target`);
    }
    return got.toString('utf8');
  };
  try {
    const hello = parseHello(await next('greeting'), path);
    const peer = socket.peer();
    await vouch(path, hello, peer);
    return {
      hello,
      peer,
      async cmd(command: string) {
        if (closed) throw new TelemetryError(`telemetry socket ${path}: already closed`);
        if (command.length > MAX_COMMAND_LENGTH) throw new TelemetryError(`telemetry command too long: ${command}`);
        try {
          socket.send(Buffer.from(command));
        } catch (err) {
          close();
          throw new TelemetryError(`telemetry socket ${path}: cannot send ${command}: ${errorMessage(err)}`);
        }
        return parseReply(await next(`reply to ${command}`), command);
      },
      setDeadline(d: number) {
        deadline = d;
      },
      isClosed: () => closed || socket.hungUp(),
      close,
    };
  } catch (err) {
    close();
    throw err instanceof GzmemError
      ? err
      : new TelemetryError(`telemetry socket ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * A socket is believed only as far as the kernel vouches for it: the process that listens on it
 * must be the pid its greeting names, and the socket file must belong to root or to that process's
 * user (anyone can make a socket in /tmp/dpdk and name any pid in a greeting).
 */
async function vouch(path: string, hello: TelemetryHello, peer: PeerCredentials): Promise<void> {
  if (peer.pid !== hello.pid) {
    throw new TelemetryError(
      `telemetry socket ${path}: ignored, its greeting names pid ${hello.pid} but the kernel says pid ${peer.pid} listens on it`,
    );
  }
  const owner = lstatSync(path).uid;
  if (owner !== 0 && owner !== peer.uid) {
    throw new TelemetryError(
      `telemetry socket ${path}: ignored, the socket file belongs to uid ${owner}, neither root nor the uid ${peer.uid} of pid ${peer.pid}`,
    );
  }
}

function connectError(err: unknown, path: string): Error {
  switch (errnoOf(err)) {
    case 'ECONNREFUSED':
      return new TelemetryError(`telemetry socket ${path}: connection refused (stale socket: its process is gone)`);
    case 'ENOENT':
      return new TelemetryError(`telemetry socket ${path}: no such socket`);
    case 'EACCES':
    case 'EPERM':
      return new PermissionError(`telemetry socket ${path}: permission denied (run gzmem as the target's user or as root)`);
    case 'EAGAIN':
      return new TelemetryError(`telemetry socket ${path}: busy (its backlog is full), try again`);
    default:
      return new TelemetryError(`telemetry socket ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
