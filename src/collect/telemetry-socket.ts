// The DPDK telemetry v2 transport: one SOCK_SEQPACKET connection, one JSON message per request.
// Only this module knows the wire protocol; everything else sees hello() and cmd().

import { lstatSync } from 'node:fs';
import { SeqpacketSocket } from 'node-unix-socket';
import { PermissionError, ProtocolError, TelemetryError } from '../errors.js';
import { errnoOf } from './files.js';

export interface TelemetryHello {
  version: string;
  pid: number;
  maxOutputLen: number;
}

export interface TelemetryConnection {
  readonly hello: TelemetryHello;
  /** Sends one command (`/cmd` or `/cmd,param`) and returns the value under its key (null = unknown/no data). */
  cmd(command: string): Promise<unknown>;
  close(): void;
}

export interface TelemetryOptions {
  timeoutMs?: number;
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

export function openTelemetry(path: string, options: TelemetryOptions = {}): Promise<TelemetryConnection> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const socket = new SeqpacketSocket();
  const inbox: string[] = [];
  let waiter: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  let closed = false;

  const fail = (err: Error) => {
    failure ??= err;
    const w = waiter;
    waiter = undefined;
    w?.reject(failure);
  };
  socket.on('data', (buf: Buffer) => {
    const text = buf.toString('utf8');
    const w = waiter;
    waiter = undefined;
    if (w) w.resolve(text);
    else inbox.push(text);
  });
  socket.on('error', (err: Error) => fail(new TelemetryError(`telemetry socket ${path}: ${err.message}`)));
  socket.on('end', () => fail(new TelemetryError(`telemetry socket ${path}: closed by the target`)));
  socket.on('close', () => fail(new TelemetryError(`telemetry socket ${path}: closed`)));

  const next = (what: string): Promise<string> => {
    const queued = inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        reject(new TelemetryError(`telemetry socket ${path}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = {
        resolve: (s) => { clearTimeout(timer); resolve(s); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  };

  const close = () => {
    if (closed) return;
    closed = true;
    // Destroying from inside the library's data callback can abort the process: defer it.
    setImmediate(() => socket.destroy());
  };

  return new Promise((resolve, reject) => {
    const connectTimer = setTimeout(() => {
      close();
      reject(new TelemetryError(`telemetry socket ${path}: connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      socket.connect(path, () => clearTimeout(connectTimer));
    } catch (err) {
      clearTimeout(connectTimer);
      close();
      reject(connectError(err, path, isSocketFile(path)));
      return;
    }
    next('greeting')
      .then((text) => {
        clearTimeout(connectTimer);
        const hello = parseHello(text, path);
        resolve({
          hello,
          async cmd(command: string) {
            if (closed) throw new TelemetryError(`telemetry socket ${path}: already closed`);
            if (command.length > MAX_COMMAND_LENGTH) throw new TelemetryError(`telemetry command too long: ${command}`);
            socket.write(Buffer.from(command));
            return parseReply(await next(`reply to ${command}`), command);
          },
          close,
        });
      })
      .catch((err: unknown) => {
        clearTimeout(connectTimer);
        close();
        reject(err);
      });
  });
}

function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

function connectError(err: unknown, path: string, socketFileExists: boolean): Error {
  const code = `${errnoOf(err) ?? ''} ${err instanceof Error ? err.message : ''}`;
  // node-unix-socket reports a refused connect as ENOENT, so a socket file that exists but does
  // not answer is taken as what it is: stale, its process gone.
  if (/ECONNREFUSED|Connection refused/i.test(code) || (socketFileExists && /ENOENT|No such file/i.test(code))) {
    return new TelemetryError(`telemetry socket ${path}: connection refused (stale socket: its process is gone)`);
  }
  if (/ENOENT|No such file/i.test(code)) return new TelemetryError(`telemetry socket ${path}: no such socket`);
  if (/EACCES|EPERM|Permission denied/i.test(code)) {
    return new PermissionError(`telemetry socket ${path}: permission denied (run gzmem as the target's user or as root)`);
  }
  return new TelemetryError(`telemetry socket ${path}: ${err instanceof Error ? err.message : String(err)}`);
}
