// `node dist/bench/faults.js [--disconnects N] [--slow N] [--silent N] [--seed S] [--threads N]
// [--difficulty D] [--request-timeout-ms T]`: the real miner (a child process) against the test
// node on 127.0.0.1 while the node misbehaves: it is down when the miner starts, drops the
// connection N times at random points (idle, between a solution's arrival and its verdict, with the
// verdict held back, right after a notify, right after accept, right after subscribe), answers
// submits later than the miner's request timeout, and goes silent (half-open). After every fault
// the miner must be mining again (the node sees a new accepted submit); at the end (SIGINT) its
// books must balance and agree with the node's records (test/support/books.ts). Prints ONE JSON
// line. test/faults.test.ts runs the same script at CI size.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { RECONNECT_SLACK_MS, runFaultScript } from '../test/support/faults.js';
import type { FaultScriptOptions } from '../test/support/faults.js';

function machine(): { cpu: string; threads: number; node: string } {
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', threads: os.availableParallelism(), node: process.versions.node };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      disconnects: { type: 'string', default: '100' },
      slow: { type: 'string', default: '5' },
      silent: { type: 'string', default: '5' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      threads: { type: 'string', default: '1' },
      difficulty: { type: 'string', default: '200000' },
      'request-timeout-ms': { type: 'string', default: '2000' },
    },
  });
  const num = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number from ${min}`);
    return n;
  };
  const opts: FaultScriptOptions = {
    disconnects: num('disconnects', values.disconnects, 0),
    slowRounds: num('slow', values.slow, 0),
    silentRounds: num('silent', values.silent, 0),
    seed: num('seed', values.seed, 0),
    threads: num('threads', values.threads, 1),
    difficulty: num('difficulty', values.difficulty, 1),
    requestTimeoutMs: num('request-timeout-ms', values['request-timeout-ms'], 100),
    log: (msg) => process.stderr.write(`faults: ${msg}\n`),
  };
  const r = await runFaultScript(opts);
  const b = r.books;
  process.stdout.write(`${JSON.stringify({
    bench: 'faults',
    ok: r.ok,
    problems: r.problems,
    seed: opts.seed,
    disconnects: opts.disconnects,
    drops: r.drops,
    slow_submits: r.slowSubmits,
    silent_submits: r.silentSubmits,
    reconnect_ms_max: Math.max(0, ...r.reconnectMs),
    reconnect_ms_median: median(r.reconnectMs),
    reconnects_within_backoff: r.reconnectMs.filter((ms, i) => ms <= r.announcedBackoffMs[i]! + RECONNECT_SLACK_MS).length,
    down_at_start_connect_ms: r.downAtStart.connectMs,
    down_at_start_backoff_ms: r.downAtStart.announcedBackoffMs,
    miner: {
      found: b.found, submitted: b.submitted, accepted: b.accepted, rejected: b.rejected, stale_at_node: b.rejectedStale,
      timed_out: b.timedOut, dropped_stale: b.droppedStale, dropped_invalid: b.droppedInvalid, lost: b.lost,
      in_flight: b.inFlight, pending: b.pending,
    },
    node_counts: {
      submits: r.node.submits, accepted: r.node.accepted, invalid: r.node.rejected, stale: r.node.stale,
      duplicates: r.node.duplicates, connections: r.node.connections, subscribes: r.node.subscribes, jobs: r.node.jobs,
    },
    expected: {
      accepted: r.expected.accepted, rejected: r.expected.rejected, timed_out: r.expected.timedOut, cut: r.expected.cut,
      cut_never_resent: r.expected.cutNeverResent, late_replies: r.expected.lateReplies,
    },
    late_reply_lines: r.lateReplyLines,
    exit_code: r.exit.code,
    seconds: r.seconds,
    ...machine(),
  })}\n`);
  if (!r.ok) process.exitCode = 1;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`faults: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
