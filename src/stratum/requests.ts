// Requests to the node and their replies: ids, the pending map, a timeout per request, the
// silence watch after a timeout, and late replies. Every request ends exactly once: a reply, a
// timeout, or the connection's end. Bounded by what callers send: one subscribe per connection
// and the engine's cap on submits in flight.
import type { Logger } from '../log/types.js';
import { fromNode } from '../log/untrusted.js';
import type { SubmitResult } from '../miner/pool.js';
import type { ResponseMessage } from './messages.js';
import { interpretSubmitReply } from './messages.js';
import type { NodeConnection } from './connection.js';

export type Reply = { kind: 'response'; msg: ResponseMessage } | { kind: 'timeout' } | { kind: 'disconnected' };

interface Pending {
  method: string;
  conn: NodeConnection;
  timer: NodeJS.Timeout;
  resolve: (reply: Reply) => void;
}

export interface RequestsOptions {
  timeoutMs: number;
  logger: Logger;
  /** A node silent this long after a timed-out request is presumed half-open and dropped. */
  onSilent: (conn: NodeConnection, silentMs: number) => void;
  /** Every request settled (reply or timeout): the client may act on an empty pending map. */
  onSettle: () => void;
  /** A reply for no pending request (timed out, or never sent). */
  onLateReply: (id: unknown) => void;
}

export class Requests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly opts: RequestsOptions) {}

  get size(): number {
    return this.pending.size;
  }

  /** A fresh id for a request line the caller builds. */
  newId(): number {
    return this.nextId++;
  }

  /** Writes `line` and resolves with the reply to `id`, a timeout, or the connection's end. */
  send(conn: NodeConnection, id: number, method: string, line: string): Promise<Reply> {
    if (conn.destroyed) return Promise.resolve({ kind: 'disconnected' });
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        this.opts.logger.warn('net', `no reply to ${method} (id ${id}) within ${this.opts.timeoutMs} ms`,
          { host: conn.endpoint.host, port: conn.endpoint.port });
        resolve({ kind: 'timeout' });
        this.watchSilence(conn);
        this.opts.onSettle();
      }, this.opts.timeoutMs);
      this.pending.set(id, { method, conn, timer, resolve });
      conn.write(line);
    });
  }

  /** A response from the node: settles its request, or counts as late. */
  onResponse(msg: ResponseMessage): void {
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) {
      this.opts.onLateReply(msg.id);
      return;
    }
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    p.resolve({ kind: 'response', msg });
    this.opts.onSettle();
  }

  /** The connection ended: its requests end as 'disconnected'. */
  failFor(conn: NodeConnection): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve({ kind: 'disconnected' });
    }
  }

  failAll(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ kind: 'disconnected' });
    }
    this.pending.clear();
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
