// Requests to the node and their replies: ids, the pending map, a timeout per request, the
// silence watch after a timeout, and late replies. Every request ends exactly once: a reply, a
// timeout, or the connection's end. Bounded by what callers send: one subscribe per connection
// and the engine's cap on submits in flight. A request sent with a late handler is kept after
// its timeout (bounded in count and time, per connection) so that a reply that comes anyway still
// reaches its caller: a submit's verdict counts even when it was slow.
import type { Logger } from '../log/types.js';
import { fromNode } from '../log/untrusted.js';
import type { SubmitResult } from '../miner/pool.js';
import type { ResponseMessage } from './messages.js';
import { interpretSubmitReply } from './messages.js';
import type { NodeConnection } from './connection.js';

export type Reply = { kind: 'response'; msg: ResponseMessage } | { kind: 'timeout' } | { kind: 'disconnected' };

/** Called with a reply that arrived after its request timed out, and the performance.now() of the send. */
export type LateHandler = (msg: ResponseMessage, sentAt: number) => void;

interface Pending {
  method: string;
  conn: NodeConnection;
  timer: NodeJS.Timeout;
  resolve: (reply: Reply) => void;
  sentAt: number;
  onLate: LateHandler | undefined;
}

/** A timed-out request whose reply may still come. */
interface TimedOut {
  conn: NodeConnection;
  sentAt: number;
  forgetAt: number;
  onLate: LateHandler;
}

/**
 * Timed-out requests kept for their late reply. The engine has at most 32 submits in flight
 * (MAX_SUBMITTING), so a node that answers nothing times out at most 32 per request timeout, and
 * the silence watch drops it after two; a node that is slow but alive times out at most 32 per
 * timeout too: 256 covers eight full rounds of that (80 s at the default 10 s timeout), far
 * beyond any real node's worst delay, for a few tens of KiB. Beyond it the oldest is forgotten.
 */
export const MAX_TIMED_OUT_KEPT = 256;
/**
 * How long a timed-out request waits for its late reply. A Conflux node answers a submit in
 * milliseconds, and its job changes every ~10 s (a solution older than that is stale anyway):
 * five minutes leaves a stalled node room to catch up and still be believed, and bounds the time
 * an entry lives.
 */
export const LATE_REPLY_WINDOW_MS = 5 * 60_000;

export interface RequestsOptions {
  timeoutMs: number;
  logger: Logger;
  /** A node silent this long after a timed-out request is presumed half-open and dropped. */
  onSilent: (conn: NodeConnection, silentMs: number) => void;
  /** Every request settled (reply or timeout): the client may act on an empty pending map. */
  onSettle: () => void;
  /** A reply for no pending request (never sent, or timed out and no longer kept). */
  onLateReply: (id: unknown) => void;
  /** A timed-out request given up for good: its window passed, its connection closed, or the cap pushed it out. */
  onForget: (why: 'expired' | 'closed' | 'over the cap') => void;
  /** Default LATE_REPLY_WINDOW_MS (tests shorten it). */
  lateWindowMs?: number;
}

export class Requests {
  private readonly pending = new Map<number, Pending>();
  /** In the order they timed out, which is also the order of their deadlines (one window for all). */
  private readonly timedOut = new Map<number, TimedOut>();
  /** One timer for the oldest deadline in `timedOut`; unref'd: it never keeps a process alive. */
  private forgetTimer: NodeJS.Timeout | undefined;
  // Never restarts, not even on a new connection: an id names one request for the client's whole life.
  private nextId = 1;

  constructor(private readonly opts: RequestsOptions) {}

  get size(): number {
    return this.pending.size;
  }

  /** A fresh id for a request line the caller builds. */
  newId(): number {
    return this.nextId++;
  }

  /**
   * Writes `line` and resolves with the reply to `id`, a timeout, or the connection's end. With
   * `onLate`, a reply that arrives after the timeout (on the same connection, within the window)
   * goes there.
   */
  send(conn: NodeConnection, id: number, method: string, line: string, onLate?: LateHandler): Promise<Reply> {
    if (conn.destroyed) return Promise.resolve({ kind: 'disconnected' });
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        this.opts.logger.warn('net', `no reply to ${method} (id ${id}) within ${this.opts.timeoutMs} ms`,
          { host: conn.endpoint.host, port: conn.endpoint.port });
        if (p.onLate) this.keep(id, p.conn, p.sentAt, p.onLate);
        resolve({ kind: 'timeout' });
        this.watchSilence(conn);
        this.opts.onSettle();
      }, this.opts.timeoutMs);
      this.pending.set(id, { method, conn, timer, resolve, sentAt: performance.now(), onLate });
      conn.write(line);
    });
  }

  /**
   * A response from the node (on `from`, the connection in use): settles its request, goes to
   * the late handler of a timed-out one, or counts as late.
   */
  onResponse(msg: ResponseMessage, from?: NodeConnection): void {
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) {
      const late = typeof msg.id === 'number' ? this.timedOut.get(msg.id) : undefined;
      // A timed-out request's entry goes when its connection closes, so `from` matches whenever
      // the entry exists; checked anyway, as a reply belongs to the connection that carried the request.
      if (late && late.conn === from) {
        this.timedOut.delete(msg.id as number);
        late.onLate(msg, late.sentAt);
      } else {
        this.opts.onLateReply(msg.id);
      }
      return;
    }
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    p.resolve({ kind: 'response', msg });
    this.opts.onSettle();
  }

  /** The connection ended: its requests end as 'disconnected', and no late reply can come for its timed-out ones. */
  failFor(conn: NodeConnection): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve({ kind: 'disconnected' });
    }
    for (const [id, t] of this.timedOut) {
      if (t.conn === conn) this.forget(id, 'closed');
    }
  }

  failAll(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ kind: 'disconnected' });
    }
    this.pending.clear();
    for (const id of [...this.timedOut.keys()]) this.forget(id, 'closed');
    clearTimeout(this.forgetTimer);
    this.forgetTimer = undefined;
  }

  private keep(id: number, conn: NodeConnection, sentAt: number, onLate: LateHandler): void {
    this.timedOut.set(id, { conn, sentAt, onLate, forgetAt: performance.now() + (this.opts.lateWindowMs ?? LATE_REPLY_WINDOW_MS) });
    if (this.timedOut.size > MAX_TIMED_OUT_KEPT) this.forget(this.timedOut.keys().next().value as number, 'over the cap');
    this.armForgetTimer();
  }

  private forget(id: number, why: 'expired' | 'closed' | 'over the cap'): void {
    if (this.timedOut.delete(id)) this.opts.onForget(why);
  }

  /** Forgets every entry past its deadline, then waits for the next one. */
  private forgetExpired(): void {
    const now = performance.now();
    for (const [id, t] of this.timedOut) {
      if (t.forgetAt > now) break;
      this.forget(id, 'expired');
    }
    this.armForgetTimer();
  }

  private armForgetTimer(): void {
    if (this.forgetTimer) return; // armed for an entry that is older than any added since
    const oldest = this.timedOut.values().next().value as TimedOut | undefined;
    if (!oldest) return;
    this.forgetTimer = setTimeout(() => {
      this.forgetTimer = undefined;
      this.forgetExpired();
    }, Math.max(0, oldest.forgetAt - performance.now()));
    this.forgetTimer.unref();
  }

  /**
   * A timed-out request alone may just be a slow node; but a node that has sent nothing at all
   * for two request timeouts since is presumed half-open, without waiting for the idle timeout.
   */
  private watchSilence(conn: NodeConnection): void {
    if (conn.silenceTimer) return;
    conn.silenceTimer = setTimeout(() => {
      conn.silenceTimer = undefined;
      const silentMs = performance.now() - conn.lastDataAt;
      if (silentMs >= 2 * this.opts.timeoutMs) this.opts.onSilent(conn, silentMs);
    }, this.opts.timeoutMs);
  }
}

/** What a submit's reply (or its absence) means for the miner; node text is masked here. */
export function submitResultOf(reply: Reply, rttMs: number, timeoutMs: number): SubmitResult {
  if (reply.kind === 'timeout') return { status: 'timeout', reason: `no reply within ${timeoutMs} ms`, rttMs };
  if (reply.kind === 'disconnected') return { status: 'disconnected', reason: 'the connection closed before the reply', rttMs };
  const verdict = interpretSubmitReply(reply.msg);
  switch (verdict.kind) {
    case 'accepted':
      return { status: 'accepted', rttMs };
    case 'rejected':
      return verdict.reason === undefined ? { status: 'rejected', rttMs } : { status: 'rejected', reason: fromNode(verdict.reason), rttMs };
    case 'error':
      return { status: 'error', reason: `node error ${verdict.error.code}: ${fromNode(verdict.error.message)}`, code: verdict.error.code, rttMs };
    case 'invalid':
      return { status: 'error', reason: fromNode(verdict.reason), rttMs };
  }
}
