// Long-running commands (record, serve) stop cleanly on Ctrl-C or SIGTERM: they close the
// database first, so nothing already recorded is lost. Other commands just exit 130.

let graceful = false;

export function stopsGracefully(): boolean {
  return graceful;
}

/** Resolves with the signal's name once SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<NodeJS.Signals> {
  graceful = true;
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
