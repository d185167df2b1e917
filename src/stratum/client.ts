// The pool manager (ethminer's PoolManager): subscribe, validated jobs, submits, reconnect with
// backoff, failover across hosts and the return to the first host. One NodeConnection at a time
// (connection.ts) carries the bytes; Requests (requests.ts) pairs requests with replies. Nothing
// here mines; the engine listens to 'job' and calls submit().
//
// Events (StratumClientEvents in types.ts):
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
import type { Logger } from '../log/types.js';
import { fromNode } from '../log/untrusted.js';
import type { Job } from '../miner/job.js';
import { sameWork, shortJobId } from '../miner/job.js';
import type { SubmitResult, SubmitTarget } from '../miner/pool.js';
import { NodeRefusedError, UsageError } from '../errors.js';
import { formatHost } from '../config/hosts.js';
import type { HostSpec } from '../config/hosts.js';
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from './framing.js';
import type { NotifyMessage, ResponseMessage } from './messages.js';
import {
  SUBMIT_METHOD, SUBSCRIBE_METHOD, buildSubmit, buildSubscribe, clip, interpretSubscribeReply, parseLine,
} from './messages.js';
import { NodeConnection } from './connection.js';
import type { Endpoint } from './connection.js';
import { Requests, submitResultOf } from './requests.js';
import type { Reply } from './requests.js';
import { BadLineReporter } from './bad-lines.js';
import { PrimaryProbe } from './failback.js';
import { CLIENT_DEFAULTS, COUNTER_OF, clientTiming } from './types.js';
import type { BackoffOptions, ClientStats, ClientTiming, ConnectionState, StratumClientEvents, StratumClientOptions } from './types.js';

export type * from './types.js';
export type { SubmitResult, SubmitStatus } from '../miner/pool.js';

export class StratumClient extends EventEmitter<StratumClientEvents> implements SubmitTarget {
  private readonly hosts: HostSpec[];
  private readonly worker: string;
  private readonly password: string;
  private readonly logger: Logger;
  private readonly timing: ClientTiming;
  private readonly backoffOptions: BackoffOptions;
  private readonly random: () => number;
  private readonly badLines: BadLineReporter;
  private readonly framer: LineFramer;
  private readonly requests: Requests;

  private currentState: ConnectionState = 'idle';
  private hostIndex = 0;
  private conn: NodeConnection | undefined;
  /** Failed attempts since the last successful subscribe; drives the backoff. */
  private failStreak = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private readonly probe: PrimaryProbe;
  private returnWhenIdle = false;
  private stopped = false;
  private closing: Promise<void> | undefined;
  private last: Job | undefined;
  private readonly counters: ClientStats = {
    connects: 0, disconnects: 0, subscribes: 0, jobs: 0, badLines: 0, badLinesLogged: 0, badLinesSuppressed: 0,
    submits: 0, accepted: 0, rejected: 0, timeouts: 0, errors: 0, lateReplies: 0, lateVerdicts: 0, lateForgotten: 0,
  };

  constructor(options: StratumClientOptions) {
    super();
    if (options.hosts.length === 0) throw new UsageError('at least one node host is needed');
    this.hosts = options.hosts.map((h) => ({ host: h.host, port: h.port }));
    this.worker = options.worker;
    this.password = options.password;
    this.logger = options.logger;
    this.timing = clientTiming(options);
    this.backoffOptions = { ...CLIENT_DEFAULTS.backoff, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.badLines = new BadLineReporter(this.logger, options.badLineLog ?? CLIENT_DEFAULTS.badLineLog, this.counters);
    this.framer = new LineFramer({
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      onLine: (line) => this.handleLine(line),
      onOverlong: (info) => this.reportBadLine(`line longer than ${info.limitBytes} bytes dropped`, undefined),
    });
    this.probe = new PrimaryProbe(this.hosts[0]!, this.timing.probeMs, this.timing.connectMs, () => this.onPrimaryAnswers());
    this.requests = new Requests({
      timeoutMs: this.timing.requestMs,
      logger: this.logger,
      onSilent: (conn, silentMs) => {
        if (conn === this.conn) conn.drop(`no data for ${Math.round(silentMs)} ms after a request timed out (connection presumed half-open)`);
      },
      onSettle: () => { if (this.returnWhenIdle && this.requests.size === 0 && this.conn) this.returnToPrimary(this.conn); },
      onLateReply: (id) => {
        this.counters.lateReplies++;
        this.logger.debug('net', `reply for an unknown or timed-out request id ${JSON.stringify(id)}`);
      },
      onForget: (why) => {
        this.counters.lateForgotten++;
        this.logger.debug('net', `gave up waiting for a late reply to a timed-out submit: ${why}`);
      },
      lateWindowMs: options.lateReplyWindowMs,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Public surface

  get state(): ConnectionState { return this.currentState; }
  /** The host in use (or about to be tried). */
  get endpoint(): Endpoint { return this.endpointOf(this.hostIndex); }
  get subscribed(): boolean { return this.conn?.subscribed ?? false; }
  /** The last valid job received (from any connection). */
  get lastJob(): Job | undefined { return this.last; }
  get stats(): ClientStats { return { ...this.counters }; }

  /** Starts connecting to the first host; events report what follows. */
  start(): void {
    if (this.currentState !== 'idle') throw new Error(`client already started (state ${this.currentState})`);
    this.connectTo(0);
  }

  /**
   * Submits a nonce for a job; always resolves (never rejects, never hangs past requestTimeoutMs).
   * A verdict that arrives after the timeout goes to `onLate` (see SubmitTarget; bounded by
   * MAX_TIMED_OUT_KEPT and LATE_REPLY_WINDOW_MS in requests.ts, and forgotten with its connection).
   */
  async submit(job: Job, nonce: bigint, onLate?: (late: SubmitResult) => void): Promise<SubmitResult> {
    const conn = this.conn;
    this.counters.submits++;
    // A node may send its job before it answers mining.subscribe: a solution for that job waits
    // for the answer (bounded by the request timeout and by the engine's cap on submits in flight).
    if (conn && !conn.subscribed) await this.readyWithin(conn);
    if (!conn?.subscribed || conn !== this.conn) return { status: 'disconnected', reason: 'not connected to a node', rttMs: 0, notSent: true };
    const id = this.requests.newId();
    let line: string;
    try {
      line = buildSubmit(id, this.worker, job.jobId, nonce, job.powHash);
    } catch (err) {
      this.counters.errors++;
      return { status: 'error', reason: err instanceof Error ? err.message : String(err), rttMs: 0 };
    }
    const sentAt = performance.now();
    const late = onLate && ((msg: ResponseMessage, at: number): void => {
      const rttMs = performance.now() - at;
      this.logger.debug('net', `late reply to ${SUBMIT_METHOD} (id ${id}) after ${Math.round(rttMs)} ms`);
      this.counters.lateVerdicts++;
      onLate(this.submitResult({ kind: 'response', msg }, rttMs));
    });
    const reply = await this.requests.send(conn, id, SUBMIT_METHOD, line, late);
    return this.submitResult(reply, performance.now() - sentAt);
  }

  /** Closes the connection and every timer; the client cannot be restarted. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Feeds raw bytes as if they came from the socket (socket-less tests, the protocol benchmark). */
  ingest(chunk: Uint8Array | string): void {
    this.conn?.touch();
    this.framer.push(chunk);
  }

  /** Handles one complete line from the node; never throws. Exposed for tests and benchmarks. */
  handleLine(line: string): void {
    try {
      const msg = parseLine(line);
      switch (msg.kind) {
        case 'invalid': return this.reportBadLine(msg.reason, line);
        case 'notify': return this.onNotify(msg);
        case 'response': return this.requests.onResponse(msg, this.conn);
        case 'request': return this.reportBadLine(`unexpected method ${JSON.stringify(clip(msg.method, 40))}`, line);
      }
    } catch (err) {
      // A listener of ours threw (e.g. the engine's 'job' handler): keep the connection alive.
      this.logger.error('net', `internal error while handling a line from the node: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // One connection's life: connect, subscribe, close

  private connectTo(index: number): void {
    if (this.stopped) return;
    this.backoffTimer = undefined;
    this.hostIndex = index;
    this.framer.reset();
    this.setState('connecting');
    this.conn = new NodeConnection({
      endpoint: this.endpointOf(index), connectTimeoutMs: this.timing.connectMs, keepAliveMs: this.timing.keepAliveMs,
      onConnect: (c) => this.onConnect(c),
      onData: (c, chunk) => { if (c === this.conn) this.framer.push(chunk); },
      onClose: (c) => this.onClose(c),
    });
  }

  private onConnect(conn: NodeConnection): void {
    if (conn !== this.conn) return;
    this.counters.connects++;
    this.setState('connected');
    this.logger.info('net', `connected to ${formatHost(conn.endpoint)}; subscribing as ${JSON.stringify(this.worker)}`,
      { host: conn.endpoint.host, port: conn.endpoint.port });
    void this.subscribe(conn);
  }

  private async subscribe(conn: NodeConnection): Promise<void> {
    const id = this.requests.newId();
    const jobsBefore = this.counters.jobs;
    // The line holds the password: it is written to the socket and never logged.
    const reply = await this.requests.send(conn, id, SUBSCRIBE_METHOD, buildSubscribe(id, this.worker, this.password));
    if (conn !== this.conn || this.stopped || reply.kind === 'disconnected') return;
    if (reply.kind === 'timeout') return conn.drop(`no reply to mining.subscribe within ${this.timing.requestMs} ms`);
    const outcome = interpretSubscribeReply(reply.msg);
    switch (outcome.kind) {
      case 'subscribed': return this.onSubscribed(conn, this.counters.jobs > jobsBefore);
      case 'refused': return this.refuse(conn);
      case 'error': return conn.drop(`mining.subscribe failed: error ${outcome.error.code} ${fromNode(outcome.error.message)}`);
      case 'invalid': return conn.drop(`unreadable reply to mining.subscribe: ${fromNode(outcome.reason)}`);
    }
  }

  private onSubscribed(conn: NodeConnection, jobArrived: boolean): void {
    conn.markSubscribed(this.timing.idleMs, () => {
      if (conn === this.conn) conn.drop(`no data for ${this.timing.idleMs} ms (connection presumed half-open)`);
    });
    this.failStreak = 0;
    this.counters.subscribes++;
    this.setState('subscribed');
    // A node may send its job in the same packet as the subscribe reply: then nothing is awaited.
    this.logger.info('net', `subscribed at ${formatHost(conn.endpoint)}${jobArrived ? '' : '; waiting for a job'}`,
      { host: conn.endpoint.host, port: conn.endpoint.port });
    if (conn.endpoint.hostIndex !== 0) this.probe.start();
    this.emit('subscribed', { ...conn.endpoint });
  }

  private refuse(conn: NodeConnection): void {
    // The message names the cause but never the password itself.
    const err = new NodeRefusedError(
      `the node at ${formatHost(conn.endpoint)} refused mining.subscribe for worker ${JSON.stringify(this.worker)}: ` +
      'wrong or missing password (check --password against the node\'s stratum secret); not reconnecting');
    this.logger.debug('net', err.message, { host: conn.endpoint.host, port: conn.endpoint.port });
    this.stopped = true;
    this.clearTimers();
    conn.drop('subscribe refused');
    this.setState('refused');
    this.emit('refused', err, { ...conn.endpoint });
  }

  private onClose(conn: NodeConnection): void {
    this.requests.failFor(conn);
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

  private async readyWithin(conn: NodeConnection): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), this.timing.requestMs); });
    try {
      return await Promise.race([conn.ready, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    this.requests.failAll();
    const conn = this.conn;
    if (conn) {
      conn.drop('client closed');
      await conn.closed;
    }
    this.conn = undefined;
    this.badLines.close();
    this.setState('closed');
  }

  // -------------------------------------------------------------------------------------------
  // Backoff, failover, and the return to the first host

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

  private stopPrimaryProbe(): void {
    this.probe.stop();
    this.returnWhenIdle = false;
  }

  private onPrimaryAnswers(): void {
    const conn = this.conn;
    if (!conn || conn.endpoint.hostIndex === 0 || this.stopped) return;
    this.logger.debug('net', `the first node ${formatHost(this.hosts[0]!)} answers again; returning to it`);
    this.emit('failback', { from: { ...conn.endpoint }, to: this.endpointOf(0) });
    // Do not cut a submit short: switch once the replies in flight are in.
    if (this.requests.size > 0) this.returnWhenIdle = true;
    else this.returnToPrimary(conn);
  }

  private returnToPrimary(conn: NodeConnection): void {
    this.returnWhenIdle = false;
    conn.returningToPrimary = true;
    conn.drop('returning to the first host');
  }

  // -------------------------------------------------------------------------------------------
  // What the node says

  private submitResult(reply: Reply, rttMs: number): SubmitResult {
    const r = submitResultOf(reply, rttMs, this.timing.requestMs);
    this.counters[COUNTER_OF[r.status]]++;
    return r;
  }

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
    this.conn?.clearTimers();
  }
}
