// The stratum connection to a Conflux node: socket, request ids and timeouts, subscribe,
// validated jobs, submits, reconnect with backoff, failover across hosts and the return to the
// first host. Nothing here mines; the engine listens to 'job' and calls submit().
//
// Events (see StratumClientEvents for payload types):
//   'state'      every state change, with the host it concerns (for logs and the stats API)
//   'subscribed' the node accepted mining.subscribe; jobs follow with its next notify
//   'job'        a validated job (also when the node re-sends the current one: info.resent)
//   'refused'    the node rejected the password; the client stops for good (CLI: exit 4)
//   'failover'   moving on to the next host after a failure
//   'failback'   the first host answers again; the client returns to it
//   'bad-line'   a line that was not a usable message (logged with rate limiting)
//
// Logging: what a human needs and no event carries (connected, subscribed, request timeouts, bad
// lines) is logged here at info/warn; everything an event carries (disconnects, backoff,
// refusal, failover, failback) only at debug, so the caller logs it once, in its own words.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../log/types.js';
import { fromNode } from '../log/untrusted.js';
import type { Job } from '../miner/job.js';
import { sameWork, shortJobId } from '../miner/job.js';
import { NodeRefusedError, UsageError } from '../errors.js';
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from './framing.js';
import type { NotifyMessage, ResponseMessage } from './messages.js';
import {
  SUBMIT_METHOD, SUBSCRIBE_METHOD, buildSubmit, buildSubscribe, clip,
  interpretSubmitReply, interpretSubscribeReply, parseLine,
} from './messages.js';

export const DEFAULT_STRATUM_PORT = 32525;

export interface HostSpec {
  host: string;
  port: number;
}

export interface BackoffOptions {
  /** First delay after a failure. */
  initialMs: number;
  /** Delays double per failed round of hosts up to this. */
  maxMs: number;
  /** 0..1: each delay is reduced by up to this fraction at random, so miners do not reconnect in step. */
  jitter: number;
}

export interface StratumClientOptions {
  /** Tried in order; the first is preferred and probed while the client works on a later one. */
  hosts: HostSpec[];
  worker: string;
  /** Sent in mining.subscribe and nowhere else (never logged). */
  password: string;
  logger: Logger;
  /** Per request (subscribe, submit); default 10 000. */
  requestTimeoutMs?: number;
  /** TCP connect; default 10 000. */
  connectTimeoutMs?: number;
  /** No data at all for this long while subscribed = half-open; reconnect. Default 180 000 (the node re-sends every ~60 s). */
  idleTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** While on a later host, try a TCP connect to the first this often; default 60 000. */
  primaryProbeIntervalMs?: number;
  /** TCP keepalive initial delay; default 15 000; 0 turns it off. */
  keepAliveMs?: number;
  maxLineBytes?: number;
  /** At most `limit` bad-line logs per `windowMs`; the rest are counted and summarised. Default 10 per 60 000. */
  badLineLog?: { limit: number; windowMs: number };
  /** Source of randomness for the jitter (tests pass a fixed one). */
  random?: () => number;
}

export type ConnectionState =
  | 'idle' | 'connecting' | 'connected' | 'subscribed' | 'disconnected' | 'backoff' | 'refused' | 'closed';

export interface StateChange {
  state: ConnectionState;
  host: string;
  port: number;
  /** Index into options.hosts. */
  hostIndex: number;
  /** Why (for disconnected and backoff). */
  reason?: string;
  /** For backoff: how long until the next attempt. */
  delayMs?: number;
}

export interface Endpoint extends HostSpec {
  hostIndex: number;
}

export interface JobInfo extends Endpoint {
  /** True when the job asks for exactly the same work as the previous one (the node's periodic re-send). */
  resent: boolean;
  /** 4: with height; 3: the older form without it (job.height is undefined). */
  paramCount: 3 | 4;
}

export interface BadLineInfo extends Endpoint {
  reason: string;
}

export type SubmitStatus = 'accepted' | 'rejected' | 'timeout' | 'error' | 'disconnected';

export interface SubmitResult {
  /**
   * accepted / rejected: the node's verdict. timeout: no reply within requestTimeoutMs.
   * error: a JSON-RPC error object or an unreadable reply. disconnected: not connected, or the
   * connection dropped before the reply (the node may or may not have seen it).
   */
  status: SubmitStatus;
  /** The node's reason for a rejection, or what went wrong; safe to log. */
  reason?: string;
  /** JSON-RPC error code when status is 'error' and the node sent one. */
  code?: number;
  /** From writing the request to its reply (or to the timeout/drop). */
  rttMs: number;
}

export interface ClientStats {
  connects: number;
  disconnects: number;
  subscribes: number;
  jobs: number;
  badLines: number;
  badLinesLogged: number;
  badLinesSuppressed: number;
  submits: number;
  accepted: number;
  rejected: number;
  timeouts: number;
  errors: number;
  lateReplies: number;
}

export interface StratumClientEvents {
  state: [StateChange];
  subscribed: [Endpoint];
  job: [Job, JobInfo];
  refused: [NodeRefusedError, Endpoint];
  failover: [{ from: Endpoint; to: Endpoint; reason: string }];
  failback: [{ from: Endpoint; to: Endpoint }];
  'bad-line': [BadLineInfo];
}

type Reply = { kind: 'response'; msg: ResponseMessage } | { kind: 'timeout' } | { kind: 'disconnected' };

interface Pending {
  method: string;
  sentAt: number;
  conn: Connection;
  timer: NodeJS.Timeout;
  resolve: (reply: Reply) => void;
}

interface Connection {
  socket: net.Socket;
  endpoint: Endpoint;
  connected: boolean;
  subscribed: boolean;
  lastError?: string;
  /** Set when we close it on purpose; becomes the logged reason. */
  dropReason?: string;
  returningToPrimary?: boolean;
  connectTimer?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  /** performance.now() of the last byte from the node. */
  lastDataAt: number;
  /** Armed when a request times out: a node silent for two request timeouts is presumed gone. */
  silenceTimer?: NodeJS.Timeout;
  closed: Promise<void>;
  /** Settles true when the node accepts mining.subscribe, false when the connection closes first. */
  ready: Promise<boolean>;
  markReady: (ok: boolean) => void;
}

const DEFAULTS = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 180_000,
  primaryProbeIntervalMs: 60_000,
  keepAliveMs: 15_000,
  backoff: { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 },
  badLineLog: { limit: 10, windowMs: 60_000 },
};

export class StratumClient extends EventEmitter<StratumClientEvents> {
  private readonly hosts: HostSpec[];
  private readonly worker: string;
  private readonly password: string;
  private readonly logger: Logger;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly primaryProbeIntervalMs: number;
  private readonly keepAliveMs: number;
  private readonly backoffOptions: BackoffOptions;
  private readonly random: () => number;
  private readonly badLines: BadLineReporter;
  private readonly framer: LineFramer;

  private currentState: ConnectionState = 'idle';
  private hostIndex = 0;
  private conn: Connection | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Failed attempts since the last successful subscribe; drives the backoff. */
  private failStreak = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probeSocket: net.Socket | undefined;
  private returnWhenIdle = false;
  private stopped = false;
  private closing: Promise<void> | undefined;
  private last: Job | undefined;
  private readonly counters: ClientStats = {
    connects: 0, disconnects: 0, subscribes: 0, jobs: 0, badLines: 0, badLinesLogged: 0, badLinesSuppressed: 0,
    submits: 0, accepted: 0, rejected: 0, timeouts: 0, errors: 0, lateReplies: 0,
  };

  constructor(options: StratumClientOptions) {
    super();
    if (options.hosts.length === 0) throw new UsageError('at least one node host is needed');
    this.hosts = options.hosts.map((h) => ({ host: h.host, port: h.port }));
    this.worker = options.worker;
    this.password = options.password;
    this.logger = options.logger;
    this.requestTimeoutMs = positive(options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs, 'requestTimeoutMs');
    this.connectTimeoutMs = positive(options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 'connectTimeoutMs');
    this.idleTimeoutMs = positive(options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs, 'idleTimeoutMs');
    this.primaryProbeIntervalMs = positive(options.primaryProbeIntervalMs ?? DEFAULTS.primaryProbeIntervalMs, 'primaryProbeIntervalMs');
    this.keepAliveMs = options.keepAliveMs ?? DEFAULTS.keepAliveMs;
    this.backoffOptions = { ...DEFAULTS.backoff, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.badLines = new BadLineReporter(this.logger, options.badLineLog ?? DEFAULTS.badLineLog, this.counters);
    this.framer = new LineFramer({
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      onLine: (line) => this.handleLine(line),
      onOverlong: (info) => this.reportBadLine(`line longer than ${info.limitBytes} bytes dropped`, undefined),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Public surface

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The host in use (or about to be tried). */
  get endpoint(): Endpoint {
    return this.endpointOf(this.hostIndex);
  }

  get subscribed(): boolean {
    return this.conn?.subscribed ?? false;
  }

  /** The last valid job received (from any connection). */
  get lastJob(): Job | undefined {
    return this.last;
  }

  get stats(): ClientStats {
    return { ...this.counters };
  }

  /** Starts connecting to the first host; events report what follows. */
  start(): void {
    if (this.currentState !== 'idle') throw new Error(`client already started (state ${this.currentState})`);
    this.connectTo(0);
  }

  /** Submits a nonce for a job; always resolves (never rejects, never hangs past requestTimeoutMs). */
  async submit(job: Job, nonce: bigint): Promise<SubmitResult> {
    const conn = this.conn;
    this.counters.submits++;
    // A node may send its job before it answers mining.subscribe: a solution for that job waits
    // for the answer (bounded by the request timeout and by the engine's cap on submits in flight).
    if (conn && !conn.subscribed && !(await this.readyWithin(conn))) {
      return { status: 'disconnected', reason: 'not connected to a node', rttMs: 0 };
    }
    if (!conn?.subscribed || conn !== this.conn) return { status: 'disconnected', reason: 'not connected to a node', rttMs: 0 };
    const id = this.nextId++;
    let line: string;
    try {
      line = buildSubmit(id, this.worker, job.jobId, nonce, job.powHash);
    } catch (err) {
      this.counters.errors++;
      return { status: 'error', reason: err instanceof Error ? err.message : String(err), rttMs: 0 };
    }
    const sentAt = performance.now();
    const reply = await this.request(conn, id, SUBMIT_METHOD, line);
    const rttMs = performance.now() - sentAt;
    return this.submitResult(reply, rttMs);
  }

  private async readyWithin(conn: Connection): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), this.requestTimeoutMs); });
    try {
      return await Promise.race([conn.ready, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection and every timer; the client cannot be restarted. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    this.failAllPending();
    const conn = this.conn;
    if (conn) {
      conn.dropReason = 'client closed';
      conn.socket.destroy();
      await conn.closed;
    }
    this.conn = undefined;
    this.badLines.close();
    this.setState('closed');
  }

  /**
   * Feeds raw bytes as if they came from the socket (same framer, parser and handlers).
   * For socket-less tests and the protocol benchmark.
   */
  ingest(chunk: Uint8Array | string): void {
    this.conn?.idleTimer?.refresh();
    this.framer.push(chunk);
  }

  /** Handles one complete line from the node; never throws. Exposed for tests and benchmarks. */
  handleLine(line: string): void {
    try {
      const msg = parseLine(line);
      switch (msg.kind) {
        case 'invalid': return this.reportBadLine(msg.reason, line);
        case 'notify': return this.onNotify(msg);
        case 'response': return this.onResponse(msg);
        case 'request': return this.reportBadLine(`unexpected method ${JSON.stringify(clip(msg.method, 40))}`, line);
      }
    } catch (err) {
      // A listener of ours threw (e.g. the engine's 'job' handler): keep the connection alive.
      this.logger.error('net', `internal error while handling a line from the node: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Connection life

  private connectTo(index: number): void {
    if (this.stopped) return;
    this.backoffTimer = undefined;
    this.hostIndex = index;
    this.framer.reset();
    const endpoint = this.endpointOf(index);
    this.setState('connecting');
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => { markClosed = resolve; });
    let markReady!: (ok: boolean) => void;
    const ready = new Promise<boolean>((resolve) => { markReady = resolve; });
    const conn: Connection = {
      socket, endpoint, connected: false, subscribed: false, closed, ready, markReady, lastDataAt: performance.now(),
    };
    this.conn = conn;
    conn.connectTimer = setTimeout(() => {
      conn.dropReason = `no TCP connection within ${this.connectTimeoutMs} ms`;
      socket.destroy();
    }, this.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => this.onConnect(conn));
    socket.on('data', (chunk: Buffer) => {
      if (conn !== this.conn) return;
      conn.idleTimer?.refresh();
      conn.lastDataAt = performance.now();
      this.framer.push(chunk);
    });
    socket.on('error', (err) => { conn.lastError ??= err.message; });
    socket.once('close', () => {
      markClosed();
      markReady(false);
      this.onClose(conn);
    });
  }

  private onConnect(conn: Connection): void {
    clearTimeout(conn.connectTimer);
    if (conn !== this.conn) return;
    conn.connected = true;
    this.counters.connects++;
    if (this.keepAliveMs > 0) conn.socket.setKeepAlive(true, this.keepAliveMs);
    this.setState('connected');
    this.logger.info('net', `connected to ${formatHost(conn.endpoint)}; subscribing as ${JSON.stringify(this.worker)}`,
      { host: conn.endpoint.host, port: conn.endpoint.port });
    void this.subscribe(conn);
  }

  private async subscribe(conn: Connection): Promise<void> {
    const id = this.nextId++;
    // The line holds the password: it is written to the socket and never logged.
    const reply = await this.request(conn, id, SUBSCRIBE_METHOD, buildSubscribe(id, this.worker, this.password));
    if (conn !== this.conn || this.stopped) return;
    if (reply.kind === 'disconnected') return;
    if (reply.kind === 'timeout') return this.drop(conn, `no reply to mining.subscribe within ${this.requestTimeoutMs} ms`);
    const outcome = interpretSubscribeReply(reply.msg);
    switch (outcome.kind) {
      case 'subscribed': return this.onSubscribed(conn);
      case 'refused': return this.refuse(conn);
      case 'error': return this.drop(conn, `mining.subscribe failed: error ${outcome.error.code} ${fromNode(outcome.error.message)}`);
      case 'invalid': return this.drop(conn, `unreadable reply to mining.subscribe: ${fromNode(outcome.reason)}`);
    }
  }

  private onSubscribed(conn: Connection): void {
    conn.subscribed = true;
    conn.markReady(true);
    this.failStreak = 0;
    this.counters.subscribes++;
    conn.idleTimer = setTimeout(() => this.onIdle(conn), this.idleTimeoutMs);
    this.setState('subscribed');
    this.logger.info('net', `subscribed at ${formatHost(conn.endpoint)}; waiting for a job`,
      { host: conn.endpoint.host, port: conn.endpoint.port });
    if (conn.endpoint.hostIndex !== 0) this.startPrimaryProbe();
    this.emit('subscribed', { ...conn.endpoint });
  }

  private refuse(conn: Connection): void {
    // The message names the cause but never the password itself.
    const err = new NodeRefusedError(
      `the node at ${formatHost(conn.endpoint)} refused mining.subscribe for worker ${JSON.stringify(this.worker)}: ` +
      'wrong or missing password (check --password against the node\'s stratum secret); not reconnecting');
    this.logger.debug('net', err.message, { host: conn.endpoint.host, port: conn.endpoint.port });
    this.stopped = true;
    this.clearTimers();
    conn.dropReason = 'subscribe refused';
    conn.socket.destroy();
    this.setState('refused');
    this.emit('refused', err, { ...conn.endpoint });
  }

  private onIdle(conn: Connection): void {
    if (conn !== this.conn) return;
    this.drop(conn, `no data for ${this.idleTimeoutMs} ms (connection presumed half-open)`);
  }

  private drop(conn: Connection, reason: string): void {
    conn.dropReason ??= reason;
    conn.socket.destroy();
  }

  private onClose(conn: Connection): void {
    clearTimeout(conn.connectTimer);
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.silenceTimer);
    this.failPending(conn);
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.stopPrimaryProbe();
    if (conn.connected) this.counters.disconnects++;
    if (this.stopped) return;
    if (conn.returningToPrimary) {
      this.failStreak = 0;
      this.connectTo(0);
      return;
    }
    const reason = conn.dropReason ?? conn.lastError ?? (conn.connected ? 'the node closed the connection' : 'connection closed');
    const where = formatHost(conn.endpoint);
    this.logger.debug('net', conn.connected ? `lost connection to ${where}: ${reason}` : `cannot connect to ${where}: ${reason}`,
      { host: conn.endpoint.host, port: conn.endpoint.port });
    this.setState('disconnected', { reason });
    this.scheduleReconnect(conn.endpoint, reason);
  }

  private scheduleReconnect(from: Endpoint, reason: string): void {
    this.failStreak++;
    const next = (from.hostIndex + 1) % this.hosts.length;
    const round = Math.floor((this.failStreak - 1) / this.hosts.length);
    const delayMs = this.backoffDelay(round);
    this.hostIndex = next;
    if (next !== from.hostIndex) {
      this.logger.debug('net', `trying the next node ${formatHost(this.hosts[next]!)} in ${Math.round(delayMs)} ms`);
      this.emit('failover', { from: { ...from }, to: this.endpointOf(next), reason });
    } else {
      this.logger.debug('net', `reconnecting to ${formatHost(from)} in ${Math.round(delayMs)} ms`);
    }
    this.setState('backoff', { reason, delayMs });
    // Ref'd on purpose: during a backoff this timer is what keeps a miner process alive.
    this.backoffTimer = setTimeout(() => this.connectTo(next), delayMs);
  }

  /** min(max, initial * 2^round), minus up to `jitter` of itself at random. */
  private backoffDelay(round: number): number {
    const { initialMs, maxMs, jitter } = this.backoffOptions;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(round, 30));
    return Math.max(0, base * (1 - Math.min(1, Math.max(0, jitter)) * this.random()));
  }

  // -------------------------------------------------------------------------------------------
  // Returning to the first host

  private startPrimaryProbe(): void {
    this.stopPrimaryProbe();
    this.probeTimer = setInterval(() => this.probePrimary(), this.primaryProbeIntervalMs);
    // The connection keeps the process alive; the probe alone must not.
    this.probeTimer.unref();
  }

  private stopPrimaryProbe(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.probeSocket?.destroy();
    this.probeSocket = undefined;
    this.returnWhenIdle = false;
  }

  private probePrimary(): void {
    if (this.probeSocket || this.returnWhenIdle) return;
    const primary = this.hosts[0]!;
    const socket = net.connect({ host: primary.host, port: primary.port });
    this.probeSocket = socket;
    const timer = setTimeout(() => socket.destroy(), this.connectTimeoutMs);
    timer.unref();
    socket.on('error', () => { /* a failed probe is expected while the first host is down */ });
    socket.once('connect', () => {
      socket.destroy();
      if (this.probeSocket === socket) this.onPrimaryAnswers();
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.probeSocket === socket) this.probeSocket = undefined;
    });
  }

  private onPrimaryAnswers(): void {
    const conn = this.conn;
    if (!conn || conn.endpoint.hostIndex === 0 || this.stopped) return;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.probeSocket = undefined;
    this.logger.debug('net', `the first node ${formatHost(this.hosts[0]!)} answers again; returning to it`);
    this.emit('failback', { from: { ...conn.endpoint }, to: this.endpointOf(0) });
    // Do not cut a submit short: switch once the replies in flight are in.
    if (this.pending.size > 0) this.returnWhenIdle = true;
    else this.returnToPrimary(conn);
  }

  private returnToPrimary(conn: Connection): void {
    this.returnWhenIdle = false;
    conn.returningToPrimary = true;
    this.drop(conn, 'returning to the first host');
  }

  // -------------------------------------------------------------------------------------------
  // Requests and replies

  private request(conn: Connection, id: number, method: string, line: string): Promise<Reply> {
    if (conn.socket.destroyed) return Promise.resolve({ kind: 'disconnected' });
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        this.logger.warn('net', `no reply to ${method} (id ${id}) within ${this.requestTimeoutMs} ms`,
          { host: conn.endpoint.host, port: conn.endpoint.port });
        resolve({ kind: 'timeout' });
        this.watchSilence(conn);
        this.afterSettle();
      }, this.requestTimeoutMs);
      this.pending.set(id, { method, sentAt: performance.now(), conn, timer, resolve });
      conn.socket.write(`${line}\n`);
    });
  }

  /**
   * A timed-out request alone may just be a slow node; but a node that has sent nothing at all
   * for two request timeouts since is presumed half-open, without waiting for the idle timeout.
   */
  private watchSilence(conn: Connection): void {
    if (conn.silenceTimer || conn !== this.conn) return;
    conn.silenceTimer = setTimeout(() => {
      conn.silenceTimer = undefined;
      const silentMs = performance.now() - conn.lastDataAt;
      if (conn === this.conn && silentMs >= 2 * this.requestTimeoutMs) {
        this.drop(conn, `no data for ${Math.round(silentMs)} ms after a request timed out (connection presumed half-open)`);
      }
    }, this.requestTimeoutMs);
  }

  private onResponse(msg: ResponseMessage): void {
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) {
      this.counters.lateReplies++;
      this.logger.debug('net', `reply for an unknown or timed-out request id ${JSON.stringify(msg.id)}`);
      return;
    }
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    p.resolve({ kind: 'response', msg });
    this.afterSettle();
  }

  private afterSettle(): void {
    if (this.returnWhenIdle && this.pending.size === 0 && this.conn) this.returnToPrimary(this.conn);
  }

  private failPending(conn: Connection): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve({ kind: 'disconnected' });
    }
  }

  private failAllPending(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ kind: 'disconnected' });
    }
    this.pending.clear();
  }

  private submitResult(reply: Reply, rttMs: number): SubmitResult {
    if (reply.kind === 'timeout') {
      this.counters.timeouts++;
      return { status: 'timeout', reason: `no reply within ${this.requestTimeoutMs} ms`, rttMs };
    }
    if (reply.kind === 'disconnected') {
      this.counters.errors++;
      return { status: 'disconnected', reason: 'the connection closed before the reply', rttMs };
    }
    const verdict = interpretSubmitReply(reply.msg);
    switch (verdict.kind) {
      case 'accepted':
        this.counters.accepted++;
        return { status: 'accepted', rttMs };
      case 'rejected':
        this.counters.rejected++;
        return verdict.reason === undefined ? { status: 'rejected', rttMs } : { status: 'rejected', reason: fromNode(verdict.reason), rttMs };
      case 'error':
        this.counters.errors++;
        return { status: 'error', reason: `node error ${verdict.error.code}: ${fromNode(verdict.error.message)}`, code: verdict.error.code, rttMs };
      case 'invalid':
        this.counters.errors++;
        return { status: 'error', reason: fromNode(verdict.reason), rttMs };
    }
  }

  // -------------------------------------------------------------------------------------------
  // Jobs and bad input

  private onNotify(msg: NotifyMessage): void {
    const job = msg.job;
    const resent = this.last !== undefined && sameWork(this.last, job);
    this.last = job;
    this.counters.jobs++;
    // Fields only: no string formatting on a path a flooding node can drive (the engine logs jobs for humans).
    if (!resent) this.logger.debug('job', 'job received', { job: shortJobId(job.jobId), height: job.height, difficulty: job.difficulty });
    // Spelled out, never `{ ...this.endpoint, resent, ... }`: in V8 11 (Node 20) a spread followed by
    // new properties builds a new hidden class (Map and descriptors, in old space, freed only by a full
    // GC) at every evaluation: ~350 B each, once per notify, most of the old-space growth in the soak.
    const e = this.endpoint;
    this.emit('job', job, { host: e.host, port: e.port, hostIndex: e.hostIndex, resent, paramCount: msg.paramCount });
  }

  private reportBadLine(reason: string, line: string | undefined): void {
    const e = this.endpoint;
    this.badLines.report(reason, line, e);
    // Spelled out for the same reason as in onNotify: a node decides how many bad lines come.
    this.emit('bad-line', { host: e.host, port: e.port, hostIndex: e.hostIndex, reason });
  }

  // -------------------------------------------------------------------------------------------
  // Small helpers

  private endpointOf(index: number): Endpoint {
    const h = this.hosts[index]!;
    return { host: h.host, port: h.port, hostIndex: index };
  }

  private setState(state: ConnectionState, extra: { reason?: string; delayMs?: number } = {}): void {
    this.currentState = state;
    const e = this.endpoint;
    this.emit('state', { state, host: e.host, port: e.port, hostIndex: e.hostIndex, ...extra });
  }

  private clearTimers(): void {
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.stopPrimaryProbe();
    if (this.conn) {
      clearTimeout(this.conn.connectTimer);
      clearTimeout(this.conn.idleTimer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rate-limited bad-line logging

/**
 * Logs at most `limit` bad lines per window; a hostile or broken node must not flood the log.
 * The suppressed count is logged once when the window ends.
 */
export class BadLineReporter {
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressedInWindow = 0;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly limits: { limit: number; windowMs: number },
    private readonly counters: Pick<ClientStats, 'badLines' | 'badLinesLogged' | 'badLinesSuppressed'>,
  ) {}

  report(reason: string, line: string | undefined, where: HostSpec): void {
    this.counters.badLines++;
    const now = performance.now();
    if (now - this.windowStart >= this.limits.windowMs) this.rollWindow(now);
    if (this.inWindow < this.limits.limit) {
      this.inWindow++;
      this.counters.badLinesLogged++;
      const sample = line === undefined ? '' : `: ${fromNode(line, 120)}`;
      this.logger.warn('net', `ignored a bad line from ${formatHost(where)} (${fromNode(reason)})${sample}`,
        { host: where.host, port: where.port });
      return;
    }
    this.counters.badLinesSuppressed++;
    if (this.suppressedInWindow++ === 0) {
      const remainingMs = Math.max(0, this.windowStart + this.limits.windowMs - now);
      this.flushTimer = setTimeout(() => this.flush(), remainingMs);
      this.flushTimer.unref();
    }
  }

  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flush();
  }

  private rollWindow(now: number): void {
    this.flush();
    this.windowStart = now;
    this.inWindow = 0;
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.suppressedInWindow === 0) return;
    this.logger.warn('net', `${this.suppressedInWindow} more bad lines from the node were not logged (limit ${this.limits.limit} per ${Math.round(this.limits.windowMs / 1000)} s)`);
    this.suppressedInWindow = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Host specs

const HOST_SPEC_HELP = 'expected host, host:port, stratum+tcp://host:port or [ipv6]:port';
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

/** Parses `host`, `host:port`, `stratum+tcp://host:port`, `[::1]:port`; a UsageError otherwise. */
export function parseHostSpec(spec: string, defaultPort = DEFAULT_STRATUM_PORT): HostSpec {
  let rest = spec.trim();
  const shown = JSON.stringify(clip(rest, 80));
  if (rest.includes('@')) {
    // Never echo it: the part before @ may be a password.
    throw new UsageError('credentials in a node address are not supported; give the password with --password');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name !== 'stratum+tcp' && name !== 'tcp') {
      throw new UsageError(`unsupported scheme ${JSON.stringify(name)} in node address ${shown}: the node speaks plain TCP (stratum+tcp://)`);
    }
    rest = rest.slice(scheme[0].length).replace(/\/$/, '');
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::([^:]*))?$/.exec(rest);
    if (!m || net.isIPv6(m[1]!) === false) throw new UsageError(`bad node address ${shown}: ${HOST_SPEC_HELP}`);
    host = m[1]!;
    portText = m[2];
  } else if (net.isIPv6(rest)) {
    host = rest;
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) throw new UsageError(`bad node address ${shown}: ${HOST_SPEC_HELP} (put IPv6 addresses in brackets)`);
    host = parts[0]!;
    portText = parts[1];
  }
  if (host.length === 0) throw new UsageError(`bad node address ${shown}: the host is empty; ${HOST_SPEC_HELP}`);
  if (!net.isIP(host) && !HOSTNAME.test(host)) throw new UsageError(`bad node address ${shown}: ${JSON.stringify(clip(host, 60))} is not a host name or IP address`);
  return { host, port: portText === undefined ? defaultPort : parsePort(portText, shown) };
}

function parsePort(text: string, shown: string): number {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`bad port in node address ${shown}: must be a number from 1 to 65535`);
  return port;
}

/** `host:port`, with IPv6 addresses in brackets. */
export function formatHost(h: HostSpec): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}
