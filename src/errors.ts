// The few error kinds gzmem reports, each with its own exit code (cli/main.ts is the only place that exits).

export const ExitCode = {
  ok: 0,
  runtime: 1,
  usage: 2,
  notFound: 3,
  permission: 4,
  telemetry: 5,
  protocol: 6,
  targetGone: 7,
  unsupported: 8,
  interrupted: 130,
} as const;

export class GzmemError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad flag, bad argument: the user can fix the command line. */
export class UsageError extends GzmemError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** No such pid or prefix, or a process that is not a DPDK one. */
export class NotFoundError extends GzmemError {
  constructor(message: string) {
    super(message, ExitCode.notFound);
  }
}

export class PermissionError extends GzmemError {
  constructor(message: string) {
    super(message, ExitCode.permission);
  }
}

/** No telemetry socket, a stale one, refused or timed out. */
export class TelemetryError extends GzmemError {
  constructor(message: string) {
    super(message, ExitCode.telemetry);
  }
}

/** A reply or a file that does not have the shape we know. */
export class ProtocolError extends GzmemError {
  constructor(message: string) {
    super(message, ExitCode.protocol);
  }
}

/** The target exited while we were reading it. */
export class TargetGoneError extends GzmemError {
  constructor(message: string) {
    super(message, ExitCode.targetGone);
  }
}

/** A DPDK version or layout we cannot read safely. */
export class UnsupportedError extends GzmemError {
  constructor(message: string) {
    super(message, ExitCode.unsupported);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
