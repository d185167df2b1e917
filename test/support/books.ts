// Both sides of the books. The miner's side is the two summary lines it logs on exit (see
// src/miner/books.ts ShareCounts, src/miner/status.ts): parseSummaryLines turns them into numbers.
// The other side is never our own formula: it is what the test node recorded (every submit it
// received and the verdict it sent, per job: nodeBooks, or a SubmitLedger when the node
// misbehaves) and facts that hold whatever the miner does (at difficulty 1 every hash is a
// solution, so the solutions found, the ones the native threads dropped included, are the hashes
// counted). booksProblems only checks that the two lines add up, which a miscount that lands on
// both sides of an identity passes; nodeProblems, reconcile and factProblems are the checks that
// catch one.
import type { ShareCounts } from '../../src/miner/books.js';
import type { SubmitRecord, SubmitVerdict, TestNode } from './test-node.js';
import { waitFor, waitForEvent } from './wait.js';

// ---------------------------------------------------------------------------------------------
// The miner's side: the summary line

export interface MinerBooks extends ShareCounts {
  /** As the line says it ("15 s", "1 min 02 s"). */
  ran: string;
  hashes: number;
  /** The headline's view (src/miner/books.ts shareSummary): rejected without, stale with the node's stale answers. */
  shares: { accepted: number; rejected: number; stale: number };
  /** The headline and the detail line (the `msg` of JSON log lines). */
  line: string;
}

// The summary is two lines (src/miner/status.ts logSummary): a headline, then the books.
const HEADLINE_RE = /summary: ran (.+?), .*?; accepted (\d+), rejected (\d+), stale (\d+)$/;
const DETAIL_RE = /^(\d+) hashes; found (\d+), sent (\d+)(.*?); stale (\d+) = (\d+) replaced before sending \+ (\d+) stale at node$/;

function messageOf(line: string): string {
  if (!line.trimStart().startsWith('{')) return line.replace(/^\d\d:\d\d:\d\d\.\d{3} +(?:\w+ +)?miner +/, '');
  try {
    const record = JSON.parse(line) as { msg?: unknown };
    return typeof record.msg === 'string' ? record.msg : line;
  } catch {
    return line; // not JSON after all: match the raw text
  }
}

/** A rare count the detail line names only when it is not zero. */
function rare(text: string, what: string): number {
  const m = new RegExp(`, ${what} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

/** The books from a headline and the line after it (human or --log-json); undefined when they are not the summary. */
export function parseSummaryLines(headline: string, detail: string | undefined): MinerBooks | undefined {
  const h = HEADLINE_RE.exec(messageOf(headline));
  const d = DETAIL_RE.exec(messageOf(detail ?? ''));
  if (!h || !d) return undefined;
  const shares = { accepted: Number(h[2]), rejected: Number(h[3]), stale: Number(h[4]) };
  const rest = d[4]!;
  const rejectedStale = Number(d[7]);
  return {
    ran: h[1]!,
    hashes: Number(d[1]),
    shares,
    found: Number(d[2]),
    submitted: Number(d[3]),
    accepted: shares.accepted,
    // The headline's rejected leaves out the node's "stale" answers, which are rejections too.
    rejected: shares.rejected + rejectedStale,
    rejectedStale,
    timedOut: rare(rest, 'timed out'),
    droppedStale: Number(d[6]),
    droppedInvalid: rare(rest, 'failed re-check'),
    droppedBacklog: rare(rest, 'dropped backlog'),
    lost: rare(rest, 'lost'),
    withheld: rare(rest, 'withheld'),
    checking: rare(rest, 'checking'),
    inFlight: rare(rest, 'in flight'),
    pending: rare(rest, 'pending'),
    line: `${messageOf(headline)}\n${messageOf(detail!)}`,
  };
}

/** The books from a run's stderr lines; throws (with the tail of the log) when there is no summary. */
export function summaryOf(lines: readonly string[]): MinerBooks {
  const summaries = lines.map((l, i) => parseSummaryLines(l, lines[i + 1])).filter((b): b is MinerBooks => b !== undefined);
  if (summaries.length !== 1) {
    const tail = lines.slice(-12).map((l) => `  | ${l}`).join('\n');
    throw new Error(`expected exactly one summary, found ${summaries.length}; last lines:\n${tail}`);
  }
  return summaries[0]!;
}

/**
 * Where the two lines do not add up: every count a count,
 * found = submitted + dropped stale + dropped invalid + dropped backlog + lost + withheld + checking + in flight + pending,
 * submitted = accepted + rejected + timed out, and no more solutions found than hashes. These are
 * the miner's own identities: a count that is wrong on both sides passes them (the native drop
 * counts are added to found and to the dropped side alike). Compare with the node as well.
 */
export function booksProblems(b: MinerBooks): string[] {
  const problems: string[] = [];
  const fields: (keyof ShareCounts)[] = [
    'found', 'submitted', 'accepted', 'rejected', 'rejectedStale', 'timedOut', 'droppedStale', 'droppedInvalid', 'droppedBacklog',
    'lost', 'withheld', 'checking', 'inFlight', 'pending',
  ];
  for (const f of fields) {
    if (!Number.isSafeInteger(b[f]) || b[f] < 0) problems.push(`${f} is ${b[f]}, not a count`);
  }
  const parts = b.submitted + b.droppedStale + b.droppedInvalid + b.droppedBacklog + b.lost + b.withheld + b.checking + b.inFlight + b.pending;
  if (b.found !== parts) {
    problems.push(`found ${b.found} != submitted ${b.submitted} + dropped stale ${b.droppedStale} + dropped invalid ` +
      `${b.droppedInvalid} + dropped backlog ${b.droppedBacklog} + lost ${b.lost} + withheld ${b.withheld} + checking ${b.checking} + ` +
      `in flight ${b.inFlight} + pending ${b.pending} (= ${parts})`);
  }
  if (b.found > b.hashes) problems.push(`found ${b.found} solutions in ${b.hashes} hashes`);
  const answered = b.accepted + b.rejected + b.timedOut;
  if (b.submitted !== answered) {
    problems.push(`submitted ${b.submitted} != accepted ${b.accepted} + rejected ${b.rejected} + timed out ${b.timedOut} (= ${answered})`);
  }
  if (b.rejectedStale > b.rejected) problems.push(`stale at node ${b.rejectedStale} > rejected ${b.rejected}`);
  return problems;
}

/** What holds whatever the miner does, given the job it mined. */
export interface BooksFacts {
  /** The difficulty of every job of the run. */
  difficulty?: bigint;
}

/**
 * The miner's counts against facts it cannot influence: at difficulty 1 (boundary 2^256 - 1)
 * every hash is a solution, so the solutions the native side found (queued, or dropped for a
 * full queue or a replaced job) must be exactly the hashes it counted.
 */
export function factProblems(b: MinerBooks, facts: BooksFacts): string[] {
  if (facts.difficulty === 1n && b.found !== b.hashes) {
    return [`difficulty 1: every hash is a solution, but found ${b.found} in ${b.hashes} hashes`];
  }
  return [];
}

/** Throws an Error naming every problem and quoting the line when the books do not balance. */
export function assertBooksBalance(b: MinerBooks): void {
  const problems = booksProblems(b);
  if (problems.length > 0) throw new Error(`the miner's books do not balance:\n  ${problems.join('\n  ')}\nline: ${b.line}`);
}

// ---------------------------------------------------------------------------------------------
// The node's side: its own record of every submit

/** One job's submits as the node recorded them. */
export interface NodeJobBooks {
  received: number;
  accepted: number;
  /** Every verdict but accepted (stale included). */
  rejected: number;
  stale: number;
  /** Distinct nonces submitted for this job. */
  nonces: number;
}

/** The node's totals, counted from its submit records (not from its running stats). */
export interface NodeBooks extends NodeJobBooks {
  /** Submits whose pow hash names no job this node ever sent. */
  unknownJob: number;
  jobs: Map<string, NodeJobBooks>;
}

/** Counts the node's submit records: totals and per job. */
export function nodeBooks(submits: readonly SubmitRecord[]): NodeBooks {
  const jobs = new Map<string, NodeJobBooks & { seen: Set<bigint> }>();
  const n: NodeBooks = { received: 0, accepted: 0, rejected: 0, stale: 0, nonces: 0, unknownJob: 0, jobs };
  for (const r of submits) {
    n.received++;
    if (r.verdict === 'accepted') n.accepted++;
    else n.rejected++;
    if (r.verdict === 'stale') n.stale++;
    if (!r.job) {
      n.unknownJob++;
      continue;
    }
    let j = jobs.get(r.job.jobId);
    if (!j) jobs.set(r.job.jobId, j = { received: 0, accepted: 0, rejected: 0, stale: 0, nonces: 0, seen: new Set() });
    j.received++;
    if (r.verdict === 'accepted') j.accepted++;
    else j.rejected++;
    if (r.verdict === 'stale') j.stale++;
    if (r.nonce !== undefined) j.seen.add(r.nonce);
    j.nonces = j.seen.size;
  }
  for (const j of jobs.values()) n.nonces += j.nonces;
  return n;
}

/**
 * Resolves once the node has judged every submit it received (a verdict may wait for an
 * asynchronous verification): compare its records only after this.
 */
export function nodeSettled(node: TestNode, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => node.submits.length === node.stats.submits, timeoutMs, 'the node to judge every submit it received');
}

/**
 * The miner's books against the node's record, for a run in which the node answered every submit
 * at once on a connection that stayed up (no drops, no silence, no delay: use a SubmitLedger and
 * reconcile() otherwise). Exact: sent = received, accepted, rejected, stale at node, nothing timed
 * out, the headline's three figures, one submit per (job, nonce), only jobs the node sent; plus
 * factProblems().
 */
export function nodeProblems(b: MinerBooks, n: NodeBooks, facts: BooksFacts = {}): string[] {
  const out: string[] = [];
  const exact = (name: string, miner: number, node: number): void => {
    if (miner !== node) out.push(`${name}: miner ${miner}, node ${node}`);
  };
  exact('sent / received', b.submitted, n.received);
  exact('accepted', b.accepted, n.accepted);
  exact('rejected', b.rejected, n.rejected);
  exact('stale at node', b.rejectedStale, n.stale);
  exact('timed out', b.timedOut, 0);
  exact('headline accepted', b.shares.accepted, n.accepted);
  exact('headline rejected', b.shares.rejected, n.rejected - n.stale);
  exact('headline stale - replaced before sending', b.shares.stale - b.droppedStale, n.stale);
  exact('submits naming a job the node never sent', n.unknownJob, 0);
  for (const [jobId, j] of n.jobs) {
    if (j.nonces !== j.received) out.push(`job ${jobId.slice(0, 10)}: ${j.received} submits of ${j.nonces} distinct nonces`);
  }
  if (b.found < n.nonces) out.push(`found ${b.found} < ${n.nonces} distinct solutions at the node`);
  out.push(...factProblems(b, facts));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The node's side: a ledger of submits

/**
 * What the miner can learn about one submit the node recorded:
 * - delivered: the verdict reaches the miner before its request timeout (counted accepted or rejected);
 * - timedout: no verdict within the timeout while the connection stays up (counted timed out; a
 *   verdict that comes later on the same connection, `lateReply`, moves it to accepted or rejected);
 * - cut: the connection was closed before the verdict was written (the miner sees a disconnect:
 *   the solution waits as pending, is resubmitted or ends lost).
 */
export type SubmitClass = 'delivered' | 'timedout' | 'cut';

export interface LedgerEntry {
  record: SubmitRecord;
  class: SubmitClass;
  /** A reply is sent after the miner's request timeout (delay > it), on the same connection: the miner counts its verdict late. */
  lateReply: boolean;
  /** The reply was held (never sent) until the connection was dropped. */
  held: boolean;
  /** performance.now() of the drop that cut it, if any. */
  cutAt?: number;
}

export interface LedgerOptions {
  /** The miner's --request-timeout-ms. */
  requestTimeoutMs: number;
  /** A submit delay at or above this is "hold until dropped" (the test always drops first). Default 600 000. */
  holdDelayMs?: number;
}

interface Pending {
  record: SubmitRecord;
  droppedBefore: boolean;
  silent: boolean;
  answering: boolean;
  delayMs: number;
}

export interface ExpectedBooks {
  accepted: number;
  rejected: number;
  rejectedStale: number;
  timedOut: number;
  submitted: number;
  /** Node records the miner saw only as a disconnect. */
  cut: number;
  /** Cut records whose solution never reached the node again: each one ends lost (or pending) at the miner. */
  cutNeverResent: number;
  /** Replies the node sent after the miner's timeout; the miner counts each one's verdict (late), not a timeout. */
  lateReplies: number;
  /** Distinct (job, nonce) pairs the node saw. */
  distinctSolutions: number;
  verdicts: Record<SubmitVerdict, number>;
}

/**
 * Watches a TestNode's submits and classifies each one when it is recorded, from the node's
 * behaviour switches at that moment (read by the node right after its 'submit' event) and from the
 * drops made through this ledger. Drop only through `drop()` / `dropOnNextSubmit()`, never with
 * node.dropConnections() directly, or the classification is wrong.
 *
 * Rules, each exact by construction:
 * - recorded on a connection this ledger already dropped (a submit still being judged when the
 *   drop came): cut, its reply goes nowhere;
 * - recorded while the node is silent or not answering: timedout (the caller keeps the connection
 *   up until the miner has given up: see timedOutIdsLogged in the fault scripts);
 * - recorded with a delay >= holdDelayMs: cut when its connection is dropped (the test drops well
 *   inside the miner's timeout; if the miner timed out first, `resolveHeld` says so from the
 *   miner's own "no reply ... (id N)" lines, which is the one place the log is consulted);
 * - recorded with a delay above the request timeout: timedout, with a late reply whose verdict counts;
 * - recorded with delay 0 and answered: delivered (keccak verification is synchronous, so the
 *   reply is written in the same turn of the event loop; a later drop cannot overtake it).
 */
export class SubmitLedger {
  private readonly pending: Pending[] = [];
  private readonly dropTimes: { upTo: number; at: number }[] = [];
  private maxConnId = 0;
  private armed: ((r: SubmitRecord) => void) | undefined;
  private readonly requestTimeoutMs: number;
  readonly holdDelayMs: number;
  /** Request ids of held submits the miner gave up on (timed out) before the drop. */
  private readonly heldTimedOut = new Set<number>();

  constructor(private readonly node: TestNode, opts: LedgerOptions) {
    this.requestTimeoutMs = opts.requestTimeoutMs;
    this.holdDelayMs = opts.holdDelayMs ?? 600_000;
    node.on('connection', ({ connId }) => { this.maxConnId = Math.max(this.maxConnId, connId); });
    node.on('submit', (record) => this.onSubmit(record));
  }

  /** Connection ids up to this one have been dropped by the ledger. */
  get droppedUpTo(): number {
    return this.dropTimes.at(-1)?.upTo ?? 0;
  }

  get records(): number {
    return this.pending.length;
  }

  /** Closes every connection now (the node went away). */
  drop(): void {
    this.dropTimes.push({ upTo: this.maxConnId, at: performance.now() });
    this.node.dropConnections();
  }

  /**
   * Drops every connection from inside the node's 'submit' event of the next submit: the node
   * has judged it but not yet written the verdict. Resolves with that record.
   */
  dropOnNextSubmit(): Promise<SubmitRecord> {
    if (this.armed) throw new Error('a drop is already armed');
    return new Promise((resolve) => { this.armed = resolve; });
  }

  /**
   * After dropOnNextSubmit cut `record`'s verdict: waits for the miner to subscribe again, re-sends
   * the same job (no new block meanwhile) and resolves with the miner's resubmit of that nonce.
   */
  async resubmitAfterReconnect(record: SubmitRecord, timeoutMs: number): Promise<SubmitRecord> {
    await waitForEvent(this.node, 'subscribed', {
      timeoutMs: 20_000, what: 'the miner back', filter: (s: { connId: number }) => s.connId > this.droppedUpTo,
    });
    const again = waitForEvent<[SubmitRecord]>(this.node, 'submit', {
      timeoutMs, what: 'the resubmit', filter: (r) => r.nonce === record.nonce && r.connId > record.connId,
    });
    this.node.resendJob();
    return (await again)[0];
  }

  /** Marks held submits (by request id) that the miner had already timed out when the drop came. */
  resolveHeld(timedOutIds: ReadonlySet<number>): void {
    for (const p of this.pending) {
      if (p.delayMs >= this.holdDelayMs && typeof p.record.requestId === 'number' && timedOutIds.has(p.record.requestId)) {
        this.heldTimedOut.add(p.record.requestId);
      }
    }
  }

  private onSubmit(record: SubmitRecord): void {
    const b = this.node.behaviour;
    this.pending.push({
      record,
      droppedBefore: record.connId <= this.droppedUpTo,
      silent: b.silent,
      answering: b.answerSubmits,
      delayMs: b.submitDelayMs,
    });
    const armed = this.armed;
    if (armed && record.connId > this.droppedUpTo) {
      this.armed = undefined;
      this.drop();
      // This record was judged before the drop but its verdict has not been written: cut.
      this.pending.at(-1)!.droppedBefore = true;
      armed(record);
    }
  }

  /** Every record with its class; throws when a rule cannot decide (a test-script bug). */
  entries(): LedgerEntry[] {
    return this.pending.map((p) => {
      const cutAt = this.dropTimes.find((d) => p.record.connId <= d.upTo && d.at >= p.record.receivedAt)?.at;
      const id = p.record.requestId;
      if (p.droppedBefore) return { record: p.record, class: 'cut', lateReply: false, held: false, cutAt };
      if (p.silent || !p.answering) return { record: p.record, class: 'timedout', lateReply: false, held: false };
      if (p.delayMs >= this.holdDelayMs) {
        if (typeof id === 'number' && this.heldTimedOut.has(id)) return { record: p.record, class: 'timedout', lateReply: false, held: true };
        if (cutAt === undefined) throw new Error(`submit id ${String(id)} was held and its connection never dropped`);
        return { record: p.record, class: 'cut', lateReply: false, held: true, cutAt };
      }
      if (p.delayMs > this.requestTimeoutMs) {
        if (cutAt !== undefined && cutAt < p.record.receivedAt + p.delayMs) {
          throw new Error(`submit id ${String(id)} had a slow reply but its connection was dropped before the reply`);
        }
        return { record: p.record, class: 'timedout', lateReply: true, held: false };
      }
      if (p.delayMs === 0) return { record: p.record, class: 'delivered', lateReply: false, held: false };
      throw new Error(`submit id ${String(id)}: a delay of ${p.delayMs} ms is neither 0 nor above the request timeout ` +
        `${this.requestTimeoutMs} ms, so what the miner sees depends on timing`);
    });
  }

  /** What the miner's books must show for the submits the node recorded. */
  expected(): ExpectedBooks {
    const entries = this.entries();
    const verdicts = { accepted: 0, invalid: 0, stale: 0, duplicate: 0, unparsable: 0, 'bad-params': 0, error: 0 } as Record<SubmitVerdict, number>;
    const e: ExpectedBooks = {
      accepted: 0, rejected: 0, rejectedStale: 0, timedOut: 0, submitted: 0, cut: 0, cutNeverResent: 0, lateReplies: 0,
      distinctSolutions: 0, verdicts,
    };
    const key = (r: SubmitRecord): string => `${r.jobIdParam?.toLowerCase()}/${r.nonce?.toString(16)}`;
    const seen = new Set<string>();
    const verdict = (r: SubmitRecord, sentBefore: boolean): void => {
      // "Problem already solved with nonce = <ours>" answers a resubmit of a solution the node
      // had accepted before the connection dropped: the miner counts it accepted. For a nonce the
      // miner had never sent, another miner was first: rejected.
      if (r.verdict === 'accepted' || (r.verdict === 'duplicate' && sentBefore)) e.accepted++;
      else {
        e.rejected++;
        if (r.verdict === 'stale') e.rejectedStale++;
      }
    };
    entries.forEach((entry, i) => {
      const r = entry.record;
      verdicts[r.verdict]++;
      const sentBefore = seen.has(key(r));
      seen.add(key(r));
      if (entry.lateReply) e.lateReplies++;
      switch (entry.class) {
        case 'delivered':
          e.submitted++;
          verdict(r, sentBefore);
          break;
        case 'timedout':
          e.submitted++;
          if (entry.lateReply) verdict(r, sentBefore);
          else e.timedOut++;
          break;
        case 'cut':
          e.cut++;
          if (!entries.slice(i + 1).some((later) => key(later.record) === key(r))) e.cutNeverResent++;
          break;
      }
    });
    e.distinctSolutions = seen.size;
    return e;
  }
}

/**
 * Compares the miner's books with what the node's ledger says they must be. Returns every
 * mismatch (empty when they agree). Exact: accepted, rejected, stale at node, timed out,
 * submitted, dropped invalid (0), the headline's figures; plus factProblems(). Bounds: a cut solution never seen again must be lost (or
 * still pending), and the miner found at least every distinct solution the node saw.
 */
export function reconcile(b: MinerBooks, e: ExpectedBooks, facts: BooksFacts = {}): string[] {
  const out: string[] = [];
  const exact = (name: string, miner: number, node: number): void => {
    if (miner !== node) out.push(`${name}: miner ${miner}, node says ${node}`);
  };
  exact('accepted', b.accepted, e.accepted);
  exact('rejected', b.rejected, e.rejected);
  exact('stale at node', b.rejectedStale, e.rejectedStale);
  exact('timed out', b.timedOut, e.timedOut);
  exact('submitted', b.submitted, e.submitted);
  exact('dropped invalid', b.droppedInvalid, 0);
  exact('invalid verdicts at the node', e.verdicts.invalid, 0);
  exact('headline accepted', b.shares.accepted, e.accepted);
  exact('headline rejected', b.shares.rejected, e.rejected - e.rejectedStale);
  exact('headline stale - replaced before sending', b.shares.stale - b.droppedStale, e.rejectedStale);
  if (b.lost + b.pending < e.cutNeverResent) {
    out.push(`lost ${b.lost} + pending ${b.pending} < ${e.cutNeverResent} solutions cut off and never sent again`);
  }
  if (b.found - b.droppedStale - b.droppedInvalid < e.distinctSolutions) {
    out.push(`found ${b.found} - dropped ${b.droppedStale + b.droppedInvalid} < ${e.distinctSolutions} distinct solutions at the node`);
  }
  out.push(...factProblems(b, facts));
  return out;
}
