// xmrig-style hotkeys on an interactive terminal: h hashrate, p pause, r resume, s shares, ? help.

export interface KeyHandlers {
  onHashrate(): void;
  onPause(): void;
  onResume(): void;
  onShares(): void;
  onHelp(): void;
}

/** The part of process.stdin this module uses, so tests can hand in a fake terminal. */
export interface KeyInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
  ref?(): unknown;
  unref?(): unknown;
}

/** One line per key, for onHelp to print. */
export const KEY_HELP = 'keys: h hashrate, p pause, r resume, s shares, ? help, Ctrl-C quit';

const CTRL_C = '\u0003';

/**
 * Puts the terminal in raw mode and calls the handler for each key. Returns detach(), which
 * restores the terminal and lets the process exit without waiting for input. Does nothing (and
 * returns a no-op) when stdin is not a terminal, so piped input is never consumed.
 */
export function attachKeys(handlers: KeyHandlers, input: KeyInput = process.stdin): () => void {
  if (input.isTTY !== true || typeof input.setRawMode !== 'function') return () => {};
  const actions: Record<string, () => void> = {
    h: handlers.onHashrate,
    p: handlers.onPause,
    r: handlers.onResume,
    s: handlers.onShares,
    '?': handlers.onHelp,
    [CTRL_C]: interrupt,
  };
  const onData = (chunk: Buffer | string): void => {
    // A paste or a fast typist delivers several keys in one chunk.
    for (const ch of chunk.toString()) actions[ch.toLowerCase()]?.();
  };

  input.setRawMode(true);
  input.on('data', onData);
  input.resume();
  input.ref?.(); // a previous detach() may have unref'd it
  let attached = true;

  return () => {
    if (!attached) return;
    attached = false;
    input.removeListener('data', onData);
    input.setRawMode?.(false);
    input.pause();
    input.unref?.();
  };
}

/**
 * Raw mode turns Ctrl-C into a plain byte, so raise the signal ourselves: through the miner's
 * SIGINT handler when it has one (a clean shutdown; a second press cuts it short), else the
 * default action, which ends the process.
 */
function interrupt(): void {
  if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
  else process.kill(process.pid, 'SIGINT');
}
