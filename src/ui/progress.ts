// Progress of cache and dataset builds: a bar on a terminal, plain log lines everywhere else
// (files, pipes, --log-json), because a bar's carriage returns turn a log file into noise.
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { formatBytes, formatDuration } from '../log/format.js';
import type { StatusLine } from '../log/logger.js';
import type { LogTag, Logger } from '../log/types.js';

export { formatBytes } from '../log/format.js';

export interface ProgressOptions {
  /** What is being done, as a log line starts: 'building dataset'. */
  label: string;
  /** Units of work in all; must be positive. */
  total: number;
  /** 'B' (the default) prints sizes as KiB/MiB/GiB; any other unit is printed after plain numbers. */
  unit?: string;
  /** Draw a bar if possible. Pass `stderr.isTTY`; a non-terminal stream or a JSON logger never gets one. */
  tty: boolean;
  logger: Logger;
  /** Default 'dag'. */
  tag?: LogTag;
  /** Where the bar goes; default process.stderr (the logger's stream). */
  stream?: NodeJS.WritableStream;
  /** Least time between two plain lines; default 5000. The 100% line is always written. */
  intervalMs?: number;
  /** Milliseconds from a monotonic clock; default performance.now. */
  clock?: () => number;
}

export interface Progress {
  /** Work done so far (cumulative, clamped to 0..total). Ignored after stop(). */
  update(done: number): void;
  /** Ends the bar and restores the terminal line. Idempotent; call it on success and on failure. */
  stop(): void;
}

interface Snapshot {
  done: number;
  total: number;
  elapsedMs: number;
}

export function createProgress(opts: ProgressOptions): Progress {
  if (!Number.isFinite(opts.total) || opts.total <= 0) {
    throw new RangeError(`progress total must be a positive number, got ${opts.total}`);
  }
  const stream = opts.stream ?? process.stderr;
  // A JSON logger means a machine reads stderr: a bar would corrupt its lines, whatever `tty` says.
  const jsonLogs = (opts.logger as { json?: unknown }).json === true;
  const useBar = opts.tty && !jsonLogs && (stream as { isTTY?: boolean }).isTTY === true;
  return useBar ? barProgress(opts, stream) : lineProgress(opts);
}

function lineProgress(opts: ProgressOptions): Progress {
  const clock = opts.clock ?? (() => performance.now());
  const intervalMs = opts.intervalMs ?? 5_000;
  const tag = opts.tag ?? 'dag';
  const startMs = clock();
  let lastLineMs = startMs;
  let finished = false;

  return {
    update(doneRaw) {
      if (finished) return;
      const nowMs = clock();
      const snap = { done: clamp(doneRaw, opts.total), total: opts.total, elapsedMs: nowMs - startMs };
      if (snap.done >= opts.total) {
        finished = true;
        opts.logger.info(tag, `${opts.label} 100% (${doneLine(snap, opts.unit)})`);
      } else if (nowMs - lastLineMs >= intervalMs) {
        lastLineMs = nowMs;
        opts.logger.info(tag, `${opts.label} ${percentOf(snap)}% (${partLine(snap, opts.unit)})`);
      }
    },
    stop() {
      finished = true;
    },
  };
}

function barProgress(opts: ProgressOptions, stream: NodeJS.WritableStream): Progress {
  const clock = opts.clock ?? (() => performance.now());
  const startMs = clock();
  const bar = new cliProgress.SingleBar({
    stream,
    format: `${opts.tag ?? 'dag'}  ${opts.label} [{bar}] {percentage}% | {doneText} of {totalText} | {rateText} | {etaText}`,
    barsize: 20,
    hideCursor: false, // a crash mid-build must not leave the user without a cursor
    linewrap: true, // likewise for the terminal's wrap mode
    gracefulExit: false, // its SIGINT listener would replace the miner's shutdown
    forceRedraw: true, // the logger clears the line between frames; the bar must redraw it
    clearOnComplete: false,
  });
  const payloadOf = (done: number): Record<string, string> => {
    const snap = { done, total: opts.total, elapsedMs: clock() - startMs };
    return {
      doneText: amount(done, opts.unit),
      totalText: amount(opts.total, opts.unit),
      rateText: rateOf(snap, opts.unit) ?? '-',
      etaText: done >= opts.total ? `took ${formatDuration(snap.elapsedMs)}` : `${etaOf(snap) ?? '?'} left`,
    };
  };
  bar.start(opts.total, 0, payloadOf(0));
  const line: StatusLine = {
    clear: () => stream.write('\r\x1b[2K'),
    // cli-progress saved the cursor where the bar started and restores it on stop; a log line
    // moved the bar down a row, so save again (ESC 7) or stop() would jump back over the log.
    redraw: () => { stream.write('\x1b7'); bar.render(); },
  };
  const detach = attachTo(opts.logger, line);
  let stopped = false;

  return {
    update(doneRaw) {
      if (stopped) return;
      const done = clamp(doneRaw, opts.total);
      bar.update(done, payloadOf(done));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      detach();
      bar.stop(); // renders the last frame and ends the line
    },
  };
}

/** Only our console logger can make room for a bar; any other Logger just writes over it. */
function attachTo(logger: Logger, line: StatusLine): () => void {
  const candidate = logger as Partial<{ attachStatusLine(line: StatusLine): () => void }>;
  return typeof candidate.attachStatusLine === 'function' ? candidate.attachStatusLine(line) : () => {};
}

function clamp(done: number, total: number): number {
  return Number.isFinite(done) ? Math.min(total, Math.max(0, done)) : 0;
}

// Floor, so 100% means finished and not 99.6% rounded up.
function percentOf(s: Snapshot): number {
  return Math.floor((s.done / s.total) * 100);
}

function amount(n: number, unit = 'B'): string {
  return unit === 'B' ? formatBytes(n) : `${Math.round(n)} ${unit}`;
}

function rateOf(s: Snapshot, unit = 'B'): string | undefined {
  if (s.elapsedMs <= 0 || s.done <= 0) return undefined;
  const perS = (s.done * 1000) / s.elapsedMs;
  return unit === 'B' ? `${formatBytes(perS)}/s` : `${perS.toFixed(1)} ${unit}/s`;
}

function etaOf(s: Snapshot): string | undefined {
  if (s.elapsedMs <= 0 || s.done <= 0) return undefined;
  return formatDuration(((s.total - s.done) * s.elapsedMs) / s.done);
}

function partLine(s: Snapshot, unit: string | undefined): string {
  const parts = [`${amount(s.done, unit)} of ${amount(s.total, unit)}`];
  const rate = rateOf(s, unit);
  const eta = etaOf(s);
  if (rate) parts.push(rate);
  if (eta) parts.push(`${eta} left`);
  return parts.join(', ');
}

function doneLine(s: Snapshot, unit: string | undefined): string {
  const rate = rateOf(s, unit);
  return [`${amount(s.total, unit)} in ${formatDuration(s.elapsedMs)}`, ...(rate ? [rate] : [])].join(', ');
}
