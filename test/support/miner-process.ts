// The real cfx-miner binary as a child process, for tests that must see what an operator sees:
// exit codes, stderr lines, signals. Output is collected per stream and split into lines as it
// arrives; tests wait for a line (or for the exit) with a deadline, never for a fixed time.
//
// A child must never outlive its test: pass the test context (`{ t }`) so t.after() kills it
// when the test ends, pass or fail (or stop()/kill() it in a finally). As safety nets, every
// child still running is killed when the test process exits or is sent SIGTERM (the test
// runner's way of cancelling a file), and any child is killed after `maxLifetimeMs`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { cliPath, repoRoot } from './fixtures.js';
import { WaitTimeoutError } from './wait.js';

export interface ExitInfo {
  /** null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Added on top of the test's environment (whose CFX_MINER_* variables are removed first). */
  env?: Record<string, string | undefined>;
  /** Default: the repository root. */
  cwd?: string;
  /** Anything with after(): the node:test context. The child is killed when the test ends. */
  t?: { after(fn: () => unknown): void };
  /** SIGKILL after this long whatever happens, so a forgotten child cannot hang a run. Default 300 000. */
  maxLifetimeMs?: number;
  /** The command that starts the miner, instead of `node dist/src/cli.js` (e.g. an installed bin or a start script). */
  command?: readonly string[];
  /** Run under `ulimit -n` of this many descriptors (through sh, which then execs node: same pid). */
  fdLimit?: number;
}

export interface MinerProcess {
  readonly proc: ChildProcess;
  /** Complete stderr lines so far (where the miner logs), without line ends. */
  readonly lines: string[];
  /** Complete stdout lines so far (machine output). */
  readonly stdout: string[];
  /** Everything received so far, unsplit. */
  stderrText(): string;
  stdoutText(): string;
  /** Settles once the process has exited and both streams are closed (every line collected). */
  readonly exited: Promise<ExitInfo>;
  /** undefined while running. */
  readonly exitInfo: ExitInfo | undefined;
  /**
   * Resolves with the match of the first stderr line (already received or still to come) that
   * matches `re`; `match.input` is the whole line. Rejects when the process exits first or at
   * the deadline, with the last lines of stderr in the message. `fromLine` skips the lines
   * before that index (e.g. `lines.length` taken earlier: only lines that arrive later count).
   */
  waitForLine(re: RegExp, timeoutMs?: number, fromLine?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit; rejects at the deadline (the process is left running). */
  waitForExit(timeoutMs?: number): Promise<ExitInfo>;
  /**
   * Sends `signal` (unless the process has already exited) and waits for the exit. If it does
   * not exit within `timeoutMs`, it is killed with SIGKILL and the promise rejects.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
  /** SIGKILL now, if still running. Safe to call at any time, any number of times. */
  kill(): void;
}

const DEFAULT_WAIT_MS = 10_000;
const DEFAULT_STOP_MS = 5_000;
const DEFAULT_LIFETIME_MS = 300_000;
const TAIL_LINES = 15;

/** Children not yet exited, killed if the test process ends with them still running. */
const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAllLive(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllLive);
  // The runner cancels a file with SIGTERM, whose default action skips 'exit' handlers. Kill the
  // children, then let SIGTERM do what it would have done (unless someone else handles it).
  // SIGINT is left alone: a terminal sends it to the children too, and tests of the Ctrl-C key
  // count SIGINT listeners.
  const onSigterm = (): void => {
    killAllLive();
    process.removeListener('SIGTERM', onSigterm);
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
  };
  process.on('SIGTERM', onSigterm);
}

/**
 * The environment a child sees: the test's own minus any CFX_MINER_* (a developer's settings
 * must not change what a test observes), no colour, then `extra` (undefined deletes a variable).
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('CFX_MINER_')) env[name] = value;
  }
  env['NO_COLOR'] = '1';
  delete env['FORCE_COLOR'];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Splits a text stream into lines as it arrives; a last line without a newline is kept at the end. */
function collectLines(stream: Readable, lines: string[], chunks: string[], onLine: () => void): Promise<void> {
  // setEncoding decodes with a StringDecoder, so a character split across chunks stays whole.
  stream.setEncoding('utf8');
  let partial = '';
  const push = (line: string): void => {
    lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    onLine();
  };
  stream.on('data', (chunk: string) => {
    chunks.push(chunk);
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const line of parts) push(line);
  });
  return new Promise((resolve) => {
    const done = (): void => {
      if (partial !== '') push(partial);
      partial = '';
      resolve();
    };
    stream.once('end', done);
    stream.once('error', done);
  });
}

export function startMiner(args: readonly string[], options: StartOptions = {}): MinerProcess {
  installHooks();
  const argv = [...(options.command ?? [process.execPath, cliPath]), ...args];
  const [command, ...commandArgs] = options.fdLimit === undefined ? argv
    : ['sh', '-c', `ulimit -n ${options.fdLimit} && exec "$@"`, 'sh', ...argv];
  const proc = spawn(command!, commandArgs, {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const lifetimeMs = options.maxLifetimeMs ?? DEFAULT_LIFETIME_MS;
  let outlived = false;
  const lifetime = setTimeout(() => {
    outlived = true;
    proc.kill('SIGKILL');
  }, lifetimeMs);
  lifetime.unref(); // the child itself keeps the process alive while it runs

  const lines: string[] = [];
  const stdout: string[] = [];
  const stderrChunks: string[] = [];
  const stdoutChunks: string[] = [];
  const lineWaiters = new Set<() => void>();
  const notify = (): void => { for (const w of [...lineWaiters]) w(); };

  const streamsDone = Promise.all([
    collectLines(proc.stderr!, lines, stderrChunks, notify),
    collectLines(proc.stdout!, stdout, stdoutChunks, () => {}),
  ]);
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve, reject) => {
    proc.once('error', (err) => {
      clearTimeout(lifetime);
      live.delete(proc);
      reject(err);
    });
    // 'close' comes after 'exit' once stdio is closed; waiting for the streams too makes sure
    // the last partial line has been pushed before anyone reads `lines`.
    proc.once('close', (code, signal) => {
      clearTimeout(lifetime);
      live.delete(proc);
      void streamsDone.then(() => {
        if (outlived) lines.push(`[miner-process] killed after its maximum lifetime of ${lifetimeMs} ms`);
        exitInfo = { code, signal };
        notify();
        resolve(exitInfo);
      });
    });
  });
  // Nobody may be awaiting `exited`; its rejection (spawn failure) is reported by the waiters.
  exited.catch(() => {});

  const tail = (): string => {
    const last = lines.slice(-TAIL_LINES);
    return last.length === 0 ? '(no stderr)' : last.map((l) => `  | ${l}`).join('\n');
  };

  const kill = (): void => {
    if (exitInfo === undefined && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };

  const waitForExit = (timeoutMs = DEFAULT_WAIT_MS): Promise<ExitInfo> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WaitTimeoutError(`the miner to exit; stderr so far:\n${tail()}`, timeoutMs)), timeoutMs);
    });
    return Promise.race([exited, deadline]).finally(() => clearTimeout(timer));
  };

  const waitForLine = (re: RegExp, timeoutMs = DEFAULT_WAIT_MS, fromLine = 0): Promise<RegExpExecArray> => {
    // A global or sticky regex carries lastIndex from one exec() to the next: use a plain copy.
    const pattern = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
    let scanned = fromLine;
    return new Promise<RegExpExecArray>((resolve, reject) => {
      const finish = (err: Error | undefined, match?: RegExpExecArray): void => {
        clearTimeout(timer);
        lineWaiters.delete(check);
        if (err) reject(err);
        else resolve(match!);
      };
      const check = (): void => {
        for (; scanned < lines.length; scanned++) {
          const match = pattern.exec(lines[scanned]!);
          if (match) return finish(undefined, match);
        }
        if (exitInfo !== undefined) {
          finish(new Error(`the miner exited (code ${exitInfo.code}, signal ${exitInfo.signal}) ` +
            `without a stderr line matching ${re}; stderr:\n${tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish(new WaitTimeoutError(`a stderr line matching ${re}; stderr so far:\n${tail()}`, timeoutMs));
      }, timeoutMs);
      lineWaiters.add(check);
      check();
    });
  };

  const stop = async (signal: NodeJS.Signals = 'SIGINT', timeoutMs = DEFAULT_STOP_MS): Promise<ExitInfo> => {
    if (exitInfo === undefined && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    try {
      return await waitForExit(timeoutMs);
    } catch (err) {
      kill();
      await exited.catch(() => undefined);
      throw new Error(`the miner did not exit within ${timeoutMs} ms of ${signal} and was killed; stderr:\n${tail()}`, { cause: err });
    }
  };

  options.t?.after(async () => {
    kill();
    await exited.catch(() => undefined);
  });

  return {
    proc,
    lines,
    stdout,
    stderrText: () => stderrChunks.join(''),
    stdoutText: () => stdoutChunks.join(''),
    exited,
    get exitInfo() { return exitInfo; },
    waitForLine,
    waitForExit,
    stop,
    kill,
  };
}

export interface CliResult extends ExitInfo {
  stdout: string;
  stderr: string;
  /** stderr split into lines, without a trailing empty one. */
  stderrLines: string[];
}

/**
 * Runs a short CLI command (`config --print`, `--help`, `hash ...`) to completion. Rejects if it
 * has not exited within `timeoutMs` (it is killed first).
 */
export async function runCli(args: readonly string[], options: StartOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  const child = startMiner(args, options);
  try {
    const info = await child.waitForExit(options.timeoutMs ?? DEFAULT_WAIT_MS);
    return { ...info, stdout: child.stdoutText(), stderr: child.stderrText(), stderrLines: [...child.lines] };
  } finally {
    child.kill();
  }
}

/**
 * Sends `signal` and measures the time to the process's 'exit' event (not to its pipes closing),
 * in ms. SIGKILLs it and rejects when it has not exited within `timeoutMs`.
 */
export async function stopAndMeasure(miner: MinerProcess, signal: NodeJS.Signals, timeoutMs = 5_000): Promise<{ exit: ExitInfo; ms: number }> {
  const exitAt = new Promise<number>((resolve) => miner.proc.once('exit', () => resolve(performance.now())));
  const sentAt = performance.now();
  miner.proc.kill(signal);
  let exit: ExitInfo;
  try {
    exit = await miner.waitForExit(timeoutMs);
  } catch (err) {
    miner.kill();
    throw err;
  }
  return { exit, ms: Math.round((await exitAt) - sentAt) };
}

/** Exit 2 with exactly one stderr line, `cfx-miner: ...`, that contains every fragment. */
export function usageLine(r: CliResult, ...fragments: string[]): string {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderrLines.length, 1, `one line: ${JSON.stringify(r.stderr)}`);
  const line = r.stderrLines[0]!;
  assert.ok(line.startsWith('cfx-miner: '), line);
  for (const f of fragments) assert.ok(line.includes(f), `"${line}" should say ${f}`);
  assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(line), `no control character on the line: ${JSON.stringify(line)}`);
  return line;
}
