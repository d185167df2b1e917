// The fault script: the real miner (a child process) against the test node while the node
// misbehaves (down at start, dropped connections at random points, late and missing replies),
// with the books reconciled exactly at the end. test/faults.test.ts runs it at CI size and
// bench/faults.ts at full size.
import { TestNode } from './test-node.js';
import type { SubmitRecord, TestNodeStats } from './test-node.js';
import { startMiner } from './miner-process.js';
import type { ExitInfo, MinerProcess } from './miner-process.js';
import { waitFor, waitForEvent, withTimeout } from './wait.js';
import { SubmitLedger, booksProblems, reconcile, summaryOf } from './books.js';
import type { ExpectedBooks, MinerBooks } from './books.js';
import { freePort } from './net.js';
import { prng } from './prng.js';

export const DROP_KINDS = ['idle', 'on-submit', 'held', 'after-notify', 'on-connect', 'on-subscribe'] as const;
export type DropKind = typeof DROP_KINDS[number];

export interface FaultScriptOptions {
  /** Forced disconnects, kinds in rotation, timing at random. */
  disconnects: number;
  /** Rounds of submit replies slower than the request timeout. */
  slowRounds: number;
  /** Rounds of a silent (half-open) node. */
  silentRounds: number;
  seed: number;
  /** Miner search threads; 1 leaves a core for the node and the test on a 2-core machine. */
  threads: number;
  /** Keccak difficulty: a few solutions per second keeps every fault close to a submit. */
  difficulty: number;
  /** The miner's --request-timeout-ms. */
  requestTimeoutMs: number;
  /** Progress lines (stderr for the bench, t.diagnostic for the test). */
  log?: (msg: string) => void;
  /** The test context, so the child dies with the test. */
  t?: { after(fn: () => unknown): void };
}

export interface FaultScriptResult {
  ok: boolean;
  /** Every way the run fell short; empty when ok. */
  problems: string[];
  exit: ExitInfo;
  books: MinerBooks;
  expected: ExpectedBooks;
  drops: Record<DropKind, number>;
  /** Drop to the next subscribe that stayed up, per disconnect. */
  reconnectMs: number[];
  /** The backoff the miner announced ("retrying in X s") before each of those reconnects, summed per disconnect. */
  announcedBackoffMs: number[];
  /** Down at start: the backoff the miner announced last before the node came up, and how long the connect then took. */
  downAtStart: { announcedBackoffMs: number; connectMs: number };
  timeoutLines: number;
  lateReplyLines: number;
  slowSubmits: number;
  silentSubmits: number;
  node: TestNodeStats;
  seconds: number;
}

/**
 * Slack on top of an announced backoff for a connect and a subscribe: what the benchmark counts
 * as "reconnected within the backoff". The script itself asserts no time (a loaded machine is
 * no bug); it reports the reconnect times and waits up to HANG_MS for each event.
 */
export const RECONNECT_SLACK_MS = 4_000;
/** The longest wait for a solution at the CI difficulty; a healthy run needs well under a second. */
const SOLUTION_WAIT_MS = 20_000;
/** A reconnect, a timeout or a late reply not seen by then is not coming. */
const HANG_MS = 30_000;

/** A random point in time for a fault (not synchronisation: what follows waits for events). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the miner's log says about requests, read incrementally (the log of a long run is big). */
class MinerLog {
  readonly timedOutIds = new Set<number>();
  /** Timed-out submits whose verdict came late and was counted. */
  readonly lateReplyIds = new Set<number>();
  /** Replies the miner could not match to any request it still kept. */
  ignoredReplies = 0;
  /** [line index, delay in ms] of every "retrying in X s". */
  readonly backoffs: [number, number][] = [];
  private scanned = 0;

  constructor(private readonly miner: MinerProcess) {}

  update(): this {
    const lines = this.miner.lines;
    for (; this.scanned < lines.length; this.scanned++) {
      const line = lines[this.scanned]!;
      let m = /no reply to mining\.submit \(id (\d+)\) within/.exec(line);
      if (m) this.timedOutIds.add(Number(m[1]));
      m = /late reply to mining\.submit \(id (\d+)\)/.exec(line);
      if (m) this.lateReplyIds.add(Number(m[1]));
      if (/reply for an unknown or timed-out request id/.test(line)) this.ignoredReplies++;
      m = /retrying in ([\d.]+) s/.exec(line);
      if (m) this.backoffs.push([this.scanned, Math.round(Number(m[1]) * 1000)]);
    }
    return this;
  }

  backoffBetween(fromLine: number, toLine: number): number {
    return this.update().backoffs.filter(([i]) => i >= fromLine && i < toLine).reduce((a, [, ms]) => a + ms, 0);
  }
}

function requestIds(records: SubmitRecord[]): number[] {
  return records.map((r) => r.requestId).filter((id): id is number => typeof id === 'number');
}

export async function runFaultScript(o: FaultScriptOptions): Promise<FaultScriptResult> {
  const say = o.log ?? (() => {});
  const rand = prng(o.seed);
  const started = performance.now();
  const T = o.requestTimeoutMs;
  const port = await freePort();
  const node = new TestNode({ algo: 'keccak', difficulty: o.difficulty, port });
  const ledger = new SubmitLedger(node, { requestTimeoutMs: T });
  const problems: string[] = [];
  const drops = Object.fromEntries(DROP_KINDS.map((k) => [k, 0])) as Record<DropKind, number>;
  const reconnectMs: number[] = [];
  const announcedBackoffMs: number[] = [];
  let slowSubmits = 0;
  let silentSubmits = 0;

  // --verbose: the client logs late replies ("late reply to mining.submit (id N)") at debug.
  const miner = startMiner([
    '--host', `127.0.0.1:${port}`, '--worker', 'faults', '--algo', 'keccak', '--threads', String(o.threads),
    '--request-timeout-ms', String(T), '--verbose', '--print-interval-s', '3600',
  ], { t: o.t, maxLifetimeMs: 3_600_000 });
  const log = new MinerLog(miner);

  /** A new accepted submit on a connection opened after the last drop: the miner is mining again. */
  const minedAgain = (what: string): Promise<unknown> => waitForEvent<[SubmitRecord]>(node, 'submit', {
    timeoutMs: SOLUTION_WAIT_MS, what,
    filter: (r) => r.verdict === 'accepted' && r.connId > ledger.droppedUpTo && node.behaviour.submitDelayMs === 0 && !node.behaviour.silent,
  });
  /** The next subscribe on a connection the script does not drop. */
  const subscribedAgain = (timeoutMs: number): Promise<unknown> => waitForEvent<[{ connId: number }]>(node, 'subscribed', {
    timeoutMs, what: 'the miner to subscribe again', filter: (s) => s.connId > ledger.droppedUpTo,
  });

  try {
    // ---- down at start: the miner starts first, the node comes up after two failed connects.
    await waitFor(() => log.update().backoffs.length >= 2, 20_000, 'two "retrying in" lines while the node is down');
    const announced = log.backoffs.at(-1)![1];
    const up = subscribedAgain(announced + HANG_MS);
    const listenAt = performance.now();
    await node.listen();
    await up;
    const downAtStart = { announcedBackoffMs: announced, connectMs: Math.round(performance.now() - listenAt) };
    say(`down at start: connected ${downAtStart.connectMs} ms after the node came up (backoff announced ${announced} ms)`);
    let mined = minedAgain('a first accepted solution');
    node.newJob();
    await mined;

    // Slow and silent rounds are spread over the disconnects.
    const rounds: ('slow' | 'silent')[] = [
      ...Array.from({ length: o.slowRounds }, () => 'slow' as const),
      ...Array.from({ length: o.silentRounds }, () => 'silent' as const),
    ];
    const roundAt = new Map<number, ('slow' | 'silent')[]>();
    rounds.forEach((r, i) => {
      const at = Math.floor(((i + 1) * o.disconnects) / (rounds.length + 1));
      roundAt.set(at, [...(roundAt.get(at) ?? []), r]);
    });
    const offset = Math.floor(rand() * DROP_KINDS.length);

    for (let i = 0; i <= o.disconnects; i++) {
      for (const round of roundAt.get(i) ?? []) {
        if (round === 'slow') slowSubmits += await slowRound();
        else silentSubmits += await silentRound();
      }
      if (i === o.disconnects) break;
      const kind = DROP_KINDS[(offset + i) % DROP_KINDS.length]!;
      drops[kind]++;
      const cycleLine = miner.lines.length;
      const dropAt = await dropOnce(kind);
      const back = subscribedAgain(HANG_MS);
      await back;
      const ms = Math.round(performance.now() - dropAt);
      // The log is a separate pipe: wait until it has caught up with this subscribe (the second
      // one when the first was cut off right after it).
      const subLine = await lineIndexOf(/subscribed at /, cycleLine, kind === 'on-subscribe' ? 2 : 1);
      const backoff = log.backoffBetween(cycleLine, subLine);
      reconnectMs.push(ms);
      announcedBackoffMs.push(backoff);
      mined = minedAgain(`an accepted solution after disconnect ${i + 1} (${kind})`);
      // The same job again (the node had no new block meanwhile) lets pending solutions go out again.
      if (rand() < 0.5) node.resendJob();
      else node.newJob();
      await mined;
      if ((i + 1) % 10 === 0) say(`${i + 1} disconnects, node: ${JSON.stringify(node.stats)}`);
    }

    mined = minedAgain('a last accepted solution');
    node.newJob();
    await mined;
    const exit = await miner.stop('SIGINT', 5_000);
    // Every submit the miner wrote has been read once the node sees its side close.
    await waitFor(() => node.connectionCount === 0, 5_000, 'the node to see the miner go');
    log.update();
    ledger.resolveHeld(log.timedOutIds);
    const books = summaryOf(miner.lines);
    const expected = ledger.expected();
    if (exit.code !== 0 || exit.signal !== null) problems.push(`exit ${JSON.stringify(exit)} after SIGINT, expected code 0`);
    problems.push(...booksProblems(books), ...reconcile(books, expected));
    if (log.timedOutIds.size - log.lateReplyIds.size !== books.timedOut) {
      problems.push(`${log.timedOutIds.size} "no reply to mining.submit" lines, ${log.lateReplyIds.size} of them answered late; ` +
        `books say ${books.timedOut} timed out`);
    }
    if (log.lateReplyIds.size !== expected.lateReplies) {
      problems.push(`${log.lateReplyIds.size} late replies logged, the node sent ${expected.lateReplies} after the timeout`);
    }
    if (log.ignoredReplies !== 0) problems.push(`${log.ignoredReplies} replies the miner could not match to a request`);
    for (const id of log.lateReplyIds) {
      if (!log.timedOutIds.has(id)) problems.push(`a late reply for request ${id}, which the miner had not counted as timed out`);
    }
    return {
      ok: problems.length === 0, problems, exit, books, expected, drops, reconnectMs, announcedBackoffMs, downAtStart,
      timeoutLines: log.timedOutIds.size, lateReplyLines: log.lateReplyIds.size, slowSubmits, silentSubmits,
      node: { ...node.stats }, seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } catch (err) {
    const tail = miner.lines.slice(-20).map((l) => `  | ${l}`).join('\n');
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nminer log tail:\n${tail}`, { cause: err });
  } finally {
    miner.kill();
    await miner.exited.catch(() => undefined);
    await node.close();
  }

  /** Index of the nth line at or after `from` that matches (waiting for it). */
  async function lineIndexOf(re: RegExp, from: number, nth: number): Promise<number> {
    let at = from - 1;
    for (let k = 0; k < nth; k++) {
      await miner.waitForLine(re, 10_000, at + 1);
      at = miner.lines.findIndex((l, i) => i > at && re.test(l));
    }
    return at;
  }

  /** One forced disconnect of the given kind; returns when the first drop happened. */
  async function dropOnce(kind: DropKind): Promise<number> {
    switch (kind) {
      case 'idle':
        await pause(rand() * 300);
        ledger.drop();
        break;
      case 'on-submit':
        // Inside the node's 'submit' event: judged, verdict not yet written.
        await withTimeout(ledger.dropOnNextSubmit(), SOLUTION_WAIT_MS, 'a submit to cut off');
        break;
      case 'held': {
        // The verdict is held back; more submits may pile up behind it; then the node goes away.
        node.behaviour.submitDelayMs = ledger.holdDelayMs;
        await waitForEvent(node, 'submit', { timeoutMs: SOLUTION_WAIT_MS, what: 'a submit to hold' });
        await pause(rand() * Math.min(300, T / 4));
        ledger.drop();
        node.behaviour.submitDelayMs = 0;
        break;
      }
      case 'after-notify':
        node.newJob();
        if (rand() < 0.5) await pause(rand() * 30);
        ledger.drop();
        break;
      case 'on-connect': {
        ledger.drop();
        // The next connection is closed as soon as it is accepted, before the subscribe.
        const at = performance.now();
        node.once('connection', () => ledger.drop());
        return at;
      }
      case 'on-subscribe': {
        ledger.drop();
        const at = performance.now();
        node.once('subscribed', () => ledger.drop());
        return at;
      }
    }
    return performance.now();
  }

  /** Verdicts slower than the request timeout: timed out at the miner, then counted when the late reply comes. */
  async function slowRound(): Promise<number> {
    const D = T + 1_000;
    const slow: SubmitRecord[] = [];
    const onSubmit = (r: SubmitRecord): void => { if (node.behaviour.submitDelayMs === D) slow.push(r); };
    node.on('submit', onSubmit);
    node.behaviour.submitDelayMs = D;
    try {
      await waitFor(() => slow.length >= 1, SOLUTION_WAIT_MS, 'a submit to answer slowly');
    } finally {
      node.behaviour.submitDelayMs = 0;
      node.off('submit', onSubmit);
    }
    const ids = requestIds(slow);
    // No drop until the miner has given up on each and its late reply has arrived.
    await waitFor(() => ids.every((id) => log.update().timedOutIds.has(id)), D + HANG_MS, `the miner to time out requests ${ids.join(', ')}`);
    await waitFor(() => ids.every((id) => log.update().lateReplyIds.has(id)), D + HANG_MS, `late replies to ${ids.join(', ')}`);
    const mined = minedAgain('an accepted solution after slow replies');
    node.newJob();
    await mined;
    say(`slow round: ${ids.length} submits answered after the timeout`);
    return ids.length;
  }

  /** A node that stays connected and says nothing: submits time out; then it speaks again. */
  async function silentRound(): Promise<number> {
    const silent: SubmitRecord[] = [];
    const onSubmit = (r: SubmitRecord): void => { if (node.behaviour.silent) silent.push(r); };
    node.on('submit', onSubmit);
    node.behaviour.silent = true;
    // Sometimes the node moves on meanwhile: the miner never hears of it, its submits are stale there.
    if (rand() < 0.5) node.newJob();
    try {
      await waitFor(() => silent.length >= 1, SOLUTION_WAIT_MS, 'a submit to a silent node');
    } finally {
      node.behaviour.silent = false;
      node.off('submit', onSubmit);
    }
    const ids = requestIds(silent);
    await waitFor(() => ids.every((id) => log.update().timedOutIds.has(id)), T + HANG_MS, `the miner to time out requests ${ids.join(', ')}`);
    const mined = minedAgain('an accepted solution after the node spoke again');
    node.newJob();
    await mined;
    say(`silent round: ${ids.length} submits unanswered`);
    return ids.length;
  }
}
