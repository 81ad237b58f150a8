// Long-running commands (record, serve) stop cleanly on Ctrl-C or SIGTERM: they close the
// database first, so nothing already recorded is lost, then exit 130 after Ctrl-C (interrupted)
// and 0 after SIGTERM (a service manager's ordinary stop). Other commands just exit 130 on Ctrl-C.

let graceful = false;
let received: NodeJS.Signals | undefined;

export function stopsGracefully(): boolean {
  return graceful;
}

/** The signal that stopped a long-running command, if one did. */
export function stoppedBy(): NodeJS.Signals | undefined {
  return received;
}

/** Resolves with the signal's name once SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<NodeJS.Signals> {
  graceful = true;
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => () => resolve((received = signal));
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}
