// The project's own Conflux stratum node: speaks PROTOCOL.md the way Conflux-Rust does (the
// notify line's exact shape, the id counter from 17, [true] / [false, reason] verdicts, a
// pow-problem window, stale and duplicate detection) and can misbehave on demand, so the miner
// is tested against the node's real habits and its bad days. Used by end-to-end tests and by
// `npm run test-node`.
//
// Password: the real node compares keccak-256(password) with a configured 32-byte secret; this
// node is configured with the password itself and compares strings, which accepts and refuses
// exactly the same subscribes. With no password configured, any password is accepted.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import type { Algo } from '../../src/native/index.js';
import { parseHexUint } from '../../src/hex.js';
import type { Logger } from '../../src/log/types.js';
import { NodeVerifier } from './node-verifier.js';
import { boundaryFromDifficulty, difficultyFromBoundary } from '../../src/miner/job.js';
import { NodeLines, parseRequest } from './node-wire.js';
import type { RpcId as JsonRpcId } from './node-wire.js';

/**
 * The CLI's (npm run test-node) default difficulty per algorithm: about one solution every few
 * seconds on a 2-core machine, keccak at ~1 MH/s per thread and Octopus light mode at several
 * thousand H/s per thread (README, Benchmark).
 */
export const DEFAULT_DIFFICULTY: Readonly<Record<Algo, bigint>> = { keccak: 2_000_000n, octopus: 50_000n };

/** What checks a submitted nonce; the default is NodeVerifier (keccak in plain JS, Octopus on the independent baseline). */
export interface PowChecker {
  verify(job: { algo: Algo; header: Buffer; height: number; boundary: bigint }, nonce: bigint): Promise<{ valid: boolean }>;
}

export interface TestNodeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Undefined: any password is accepted (the node without a secret). */
  password?: string;
  /** Default 'keccak' (the node's test PoW). */
  algo?: Algo;
  /** boundary = floor(2^256 / difficulty); default 1 (every nonce valid). */
  difficulty?: bigint | number;
  /** Height sent in notify and used to verify Octopus; default 0. */
  height?: number;
  /** 4 (the node's form, default) or 3 (the design note's form without height). */
  notifyParams?: 3 | 4;
  /** How many recent jobs accept submits (the node's pow_problem_window_size); default 1. */
  windowSize?: number;
  /** Push a new job this often; 0 (default) = only on newJob(). */
  jobIntervalMs?: number;
  /** Re-send the current job this often; 0 (default) = never. */
  resendIntervalMs?: number;
  /** Send the current job right after a successful subscribe (the real node does not; default false). */
  notifyOnSubscribe?: boolean;
  verifier?: PowChecker;
  logger?: Logger;
}

/** Switches for tests; change them at any time. */
export interface TestNodeBehaviour {
  /** false: submits are recorded but never answered (a half-open node, for submits). */
  answerSubmits: boolean;
  /** Delay before each submit reply. */
  submitDelayMs: number;
  /** true: nothing at all is written to any connection (a half-open node). */
  silent: boolean;
  /** 'split': each message goes out in random 1-7 byte writes; 'merge': messages of one tick go out in one write. */
  chunking: 'none' | 'split' | 'merge';
  /** true: "true"/"false" for subscribe and ["true"]/["false", reason] for submit, as in the design note. */
  stringResults: boolean;
  /**
   * > 0: after a good subscribe, send the current job at once and the subscribe reply this many
   * ms later (a node whose notify races ahead of its reply).
   */
  subscribeReplyDelayMs: number;
  /** Set: every submit that would be accepted is answered [false, rejectAllWith] instead (a node echoing text back). */
  rejectAllWith: string | undefined;
  /**
   * > 0: the next this many submits that would be accepted are answered "Problem already solved
   * with nonce = <the submitted nonce>" instead, as if another miner had sent that nonce first
   * (the nonce then counts as solved for its job, as at the real node). Counts down.
   */
  solvedByOthers: number;
}

export interface TestJob {
  /** 0x + 64 lowercase hex digits; the node uses the pow hash as job id. */
  jobId: string;
  powHash: Buffer;
  height: number;
  boundary: bigint;
  difficulty: bigint;
  createdAt: number;
}

export type SubmitVerdict = 'accepted' | 'invalid' | 'stale' | 'duplicate' | 'unparsable' | 'bad-params' | 'error';

export interface SubmitRecord {
  connId: number;
  requestId: JsonRpcId | undefined;
  worker: string;
  /** The params as sent (undefined when not a string). */
  jobIdParam: string | undefined;
  nonceParam: string | undefined;
  powHashParam: string | undefined;
  nonce: bigint | undefined;
  /** The window job the pow hash matched, if any. */
  job: TestJob | undefined;
  verdict: SubmitVerdict;
  /** The `result` (or `error` object) the node decided on; `answered` says whether it was sent. */
  reply: unknown;
  answered: boolean;
  /** performance.now() when the submit line arrived. */
  receivedAt: number;
}

export interface JobRecord {
  job: TestJob;
  submits: number;
  accepted: number;
  invalid: number;
  duplicates: number;
  stale: number;
}

export interface TestNodeStats {
  connections: number;
  subscribes: number;
  refusedSubscribes: number;
  jobs: number;
  notifies: number;
  submits: number;
  accepted: number;
  rejected: number;
  stale: number;
  duplicates: number;
  unparsable: number;
  badRequests: number;
}

export interface TestNodeEvents {
  listening: [{ host: string; port: number }];
  connection: [{ connId: number; remote: string }];
  /** Every mining.subscribe, accepted or refused. */
  subscribe: [{ connId: number; worker: string; ok: boolean }];
  /** Only accepted subscribes (the connection receives jobs from now on). */
  subscribed: [{ connId: number; worker: string }];
  job: [TestJob];
  submit: [SubmitRecord];
  /** Any request (after parsing), including unknown methods. */
  request: [{ connId: number; method: string; id: JsonRpcId | undefined }];
  disconnect: [{ connId: number }];
}

interface NodeConn {
  id: number;
  socket: net.Socket;
  framer: NodeLines;
  subscribed: boolean;
  worker: string;
  queue: Buffer[];
  flushing: boolean;
}

interface WindowEntry {
  job: TestJob;
  /** Nonces already accepted for this job (the node's "already solved" set). */
  solved: Set<bigint>;
}

const NOTIFY_ID_START = 17;
/** The node's own bound on a request line (a submit is under 300 bytes). */
const MAX_LINE_BYTES = 64 * 1024;
const MAX_JOB_RECORDS = 10_000;

export class TestNode extends EventEmitter<TestNodeEvents> {
  readonly behaviour: TestNodeBehaviour = {
    answerSubmits: true, submitDelayMs: 0, silent: false, chunking: 'none', stringResults: false,
    subscribeReplyDelayMs: 0, rejectAllWith: undefined, solvedByOthers: 0,
  };
  readonly submits: SubmitRecord[] = [];
  readonly jobs = new Map<string, JobRecord>();
  readonly stats: TestNodeStats = {
    connections: 0, subscribes: 0, refusedSubscribes: 0, jobs: 0, notifies: 0,
    submits: 0, accepted: 0, rejected: 0, stale: 0, duplicates: 0, unparsable: 0, badRequests: 0,
  };

  readonly algo: Algo;
  notifyParams: 3 | 4;
  height: number;
  difficulty: bigint;

  private readonly hostName: string;
  private listenPort: number;
  private readonly password: string | undefined;
  private readonly windowSize: number;
  private readonly notifyOnSubscribe: boolean;
  private readonly verifier: PowChecker;
  private readonly logger: Logger | undefined;
  private server: net.Server | undefined;
  private readonly conns = new Map<number, NodeConn>();
  private nextConnId = 1;
  private notifyId = NOTIFY_ID_START;
  private window: WindowEntry[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private jobTimer: NodeJS.Timeout | undefined;
  private resendTimer: NodeJS.Timeout | undefined;

  constructor(options: TestNodeOptions = {}) {
    super();
    this.hostName = options.host ?? '127.0.0.1';
    this.listenPort = options.port ?? 0;
    this.password = options.password;
    this.algo = options.algo ?? 'keccak';
    this.difficulty = BigInt(options.difficulty ?? 1);
    if (this.difficulty < 1n) throw new RangeError('difficulty must be at least 1');
    this.height = options.height ?? 0;
    this.notifyParams = options.notifyParams ?? 4;
    this.windowSize = options.windowSize ?? 1;
    if (!Number.isInteger(this.windowSize) || this.windowSize < 1) throw new RangeError('windowSize must be at least 1');
    this.notifyOnSubscribe = options.notifyOnSubscribe ?? false;
    this.verifier = options.verifier ?? new NodeVerifier();
    this.logger = options.logger;
    if (options.jobIntervalMs) this.jobTimer = setInterval(() => this.newJob(), options.jobIntervalMs);
    if (options.resendIntervalMs) this.resendTimer = setInterval(() => this.resendJob(), options.resendIntervalMs);
  }

  /** Creates a node and starts listening. */
  static async start(options: TestNodeOptions = {}): Promise<TestNode> {
    const node = new TestNode(options);
    try {
      await node.listen();
    } catch (err) {
      await node.close();
      throw err;
    }
    return node;
  }

  get host(): string {
    return this.hostName;
  }

  /** The port listened on (after listen(); kept across stopListening()/listen()). */
  get port(): number {
    return this.listenPort;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Open connections, subscribed or not. */
  get connectionCount(): number {
    return this.conns.size;
  }

  get subscribedCount(): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.subscribed) n++;
    return n;
  }

  /** The newest job, if any. */
  get currentJob(): TestJob | undefined {
    return this.window.at(-1)?.job;
  }

  /** Starts (or, after stopListening(), restarts) accepting connections on the same port. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.server?.listening) return { host: this.hostName, port: this.listenPort };
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.hostName, port: this.listenPort, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger?.error('net', `test node server error: ${err.message}`));
    this.server = server;
    this.listenPort = (server.address() as net.AddressInfo).port;
    this.emit('listening', { host: this.hostName, port: this.listenPort });
    return { host: this.hostName, port: this.listenPort };
  }

  /** Refuses new connections at once (existing ones stay open; see dropConnections()). */
  async stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server?.listening) return;
    // close() frees the port at once, but its callback waits for every open connection to end;
    // waiting for it would make "stop listening, keep the miners" impossible.
    server.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Closes every connection at once (the node went away). */
  dropConnections(): void {
    for (const c of this.conns.values()) c.socket.destroy();
  }

  /** Makes a new job the current one and pushes it to every subscribed miner. */
  newJob(options: { height?: number; difficulty?: bigint | number; powHash?: Buffer } = {}): TestJob {
    if (options.height !== undefined) this.height = options.height;
    if (options.difficulty !== undefined) this.difficulty = BigInt(options.difficulty);
    const powHash = options.powHash ?? randomBytes(32);
    if (powHash.length !== 32) throw new RangeError('powHash must be 32 bytes');
    const boundary = boundaryFromDifficulty(this.difficulty);
    const job: TestJob = {
      jobId: `0x${powHash.toString('hex')}`, powHash, height: this.height, boundary,
      difficulty: difficultyFromBoundary(boundary), createdAt: performance.now(),
    };
    this.window.push({ job, solved: new Set() });
    while (this.window.length > this.windowSize) this.window.shift();
    this.recordJob(job);
    this.stats.jobs++;
    this.emit('job', job);
    this.broadcastJob(job);
    return job;
  }

  /** Sends the current job again (the node does this about every 60 s). */
  resendJob(): void {
    const job = this.currentJob;
    if (job) this.broadcastJob(job);
  }

  /** The notify line for a job exactly as Conflux-Rust writes it (without the newline). */
  notifyLine(job: TestJob, id: number): string {
    const hash = job.powHash.toString('hex');
    const boundary = job.boundary.toString(16);
    // Conflux-Rust formats the params by hand: note the uneven spacing before the boundary.
    const params = this.notifyParams === 4
      ? `["0x${hash}", "${job.height}", "0x${hash}","0x${boundary}"]`
      : `["0x${hash}", "0x${hash}","0x${boundary}"]`;
    return `{ "id": ${id}, "method": "mining.notify", "params": ${params} }`;
  }

  /** Writes raw text to every connection (subscribed or not); add the newlines yourself. */
  sendRaw(text: string | Buffer): void {
    for (const c of this.conns.values()) this.send(c, text);
  }

  /** Sends a set of hostile lines to every subscribed miner (each ended by a newline). */
  sendGarbage(lines: string[] = GARBAGE_LINES): void {
    for (const c of this.conns.values()) {
      if (c.subscribed) for (const line of lines) this.send(c, `${line}\n`);
    }
  }

  /** Submits for one job, in arrival order. */
  submitsFor(jobId: string): SubmitRecord[] {
    const id = jobId.toLowerCase();
    return this.submits.filter((s) => s.job?.jobId === id || s.jobIdParam?.toLowerCase() === id);
  }

  /** Stops timers, closes every connection and the listener. */
  async close(): Promise<void> {
    clearInterval(this.jobTimer);
    clearInterval(this.resendTimer);
    this.jobTimer = undefined;
    this.resendTimer = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closing = [...this.conns.values()].map((c) => new Promise<void>((resolve) => {
      if (c.socket.closed) resolve();
      else c.socket.once('close', () => resolve());
      c.queue = [];
      c.socket.destroy();
    }));
    await Promise.all([this.stopListening(), ...closing]);
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  private accept(socket: net.Socket): void {
    const id = this.nextConnId++;
    const conn: NodeConn = {
      id, socket, subscribed: false, worker: '', queue: [], flushing: false,
      framer: new NodeLines(MAX_LINE_BYTES, (line) => this.onLine(conn, line),
        () => this.reply(conn, null, { error: { code: -32700, message: 'Parse error' } })),
    };
    this.conns.set(id, conn);
    this.stats.connections++;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => conn.framer.push(chunk));
    socket.on('error', () => { /* a miner going away is normal */ });
    socket.once('close', () => {
      this.conns.delete(id);
      conn.queue = [];
      this.emit('disconnect', { connId: id });
    });
    this.emit('connection', { connId: id, remote: `${socket.remoteAddress}:${socket.remotePort}` });
  }

  private onLine(conn: NodeConn, line: string): void {
    const msg = parseRequest(line);
    if (msg.kind === 'bad') {
      this.stats.badRequests++;
      this.reply(conn, msg.id ?? null, { error: msg.parseError ? { code: -32700, message: 'Parse error' } : { code: -32600, message: 'Invalid request' } });
      return;
    }
    this.emit('request', { connId: conn.id, method: msg.method, id: msg.id });
    if (msg.method === 'mining.subscribe') this.onSubscribe(conn, msg.id, msg.params);
    else if (msg.method === 'mining.submit') void this.onSubmit(conn, msg.id, msg.params);
    else this.reply(conn, msg.id ?? null, { error: { code: -32601, message: 'Method not found' } });
  }

  private onSubscribe(conn: NodeConn, id: JsonRpcId | undefined, params: unknown): void {
    if (!Array.isArray(params) || params.some((p) => typeof p !== 'string')) {
      this.stats.badRequests++;
      this.reply(conn, id ?? null, { error: { code: -32602, message: 'Invalid params' } });
      return;
    }
    const worker = (params[0] as string | undefined) ?? '';
    const password = (params[1] as string | undefined) ?? '';
    const ok = this.password === undefined || password === this.password;
    if (ok) {
      conn.subscribed = true;
      conn.worker = worker;
      this.stats.subscribes++;
    } else {
      // Like the node: the socket stays open but never receives a job.
      this.stats.refusedSubscribes++;
    }
    const job = this.currentJob;
    const replyLine = { result: this.behaviour.stringResults ? String(ok) : ok };
    const delayMs = this.behaviour.subscribeReplyDelayMs;
    if (ok && delayMs > 0) {
      if (job) this.sendNotify(conn, job, this.notifyId++);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.reply(conn, id ?? null, replyLine);
        this.emit('subscribe', { connId: conn.id, worker, ok });
        this.emit('subscribed', { connId: conn.id, worker });
      }, delayMs);
      this.timers.add(timer);
      return;
    }
    this.reply(conn, id ?? null, replyLine);
    this.emit('subscribe', { connId: conn.id, worker, ok });
    if (ok) this.emit('subscribed', { connId: conn.id, worker });
    if (ok && this.notifyOnSubscribe && job) this.sendNotify(conn, job, this.notifyId++);
  }

  // -------------------------------------------------------------------------------------------
  // Submits (the node's order of checks: payload, window by pow hash, already solved, verify)

  private async onSubmit(conn: NodeConn, id: JsonRpcId | undefined, params: unknown): Promise<void> {
    const receivedAt = performance.now();
    this.stats.submits++;
    const strings = Array.isArray(params) && params.every((p) => typeof p === 'string') ? params as string[] : undefined;
    const record: SubmitRecord = {
      connId: conn.id, requestId: id, worker: strings?.[0] ?? '',
      jobIdParam: strings?.[1], nonceParam: strings?.[2], powHashParam: strings?.[3],
      nonce: undefined, job: undefined, verdict: 'unparsable', reply: undefined, answered: false, receivedAt,
    };
    let outcome: { result: unknown } | { error: { code: number; message: string } };
    try {
      outcome = await this.judgeSubmit(record, strings);
    } catch (err) {
      record.verdict = 'error';
      const why = err instanceof Error ? err.message : String(err);
      this.logger?.error('share', `test node cannot verify a submit: ${why}`);
      outcome = { error: { code: -32603, message: `Internal error: ${why}` } };
    }
    record.reply = 'result' in outcome ? outcome.result : outcome.error;
    this.count(record);
    this.submits.push(record);
    this.emit('submit', record);
    if (!this.behaviour.answerSubmits) return;
    record.answered = true;
    const delayMs = this.behaviour.submitDelayMs;
    if (delayMs <= 0) {
      this.reply(conn, id ?? null, outcome);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.reply(conn, id ?? null, outcome);
    }, delayMs);
    this.timers.add(timer);
  }

  private async judgeSubmit(record: SubmitRecord, strings: string[] | undefined): Promise<{ result: unknown } | { error: { code: number; message: string } }> {
    if (!strings) {
      record.verdict = 'bad-params';
      return { error: { code: -32602, message: 'Invalid params' } };
    }
    const rejected = (reason?: string): { result: unknown } => ({ result: this.falseResult(reason) });
    if (strings.length !== 4) return rejected();
    const worker = strings[0]!;
    const nonce = tryHexUint(strings[2]!);
    const powHash = tryHash(strings[3]!);
    if (nonce === undefined || powHash === undefined) return rejected();
    record.nonce = nonce;
    const entry = this.window.find((e) => e.job.powHash.equals(powHash));
    if (!entry) {
      record.verdict = 'stale';
      record.job = this.jobs.get(`0x${powHash.toString('hex')}`)?.job;
      return rejected(`Solution for a stale job! worker_id = ${worker}`);
    }
    record.job = entry.job;
    const duplicate = (): { result: unknown } => {
      record.verdict = 'duplicate';
      return rejected(`Problem already solved with nonce = ${nonce.toString()}! worker_id = ${worker}`);
    };
    if (entry.solved.has(nonce)) return duplicate();
    const { job } = entry;
    const { valid } = await this.verifier.verify({ algo: this.algo, header: job.powHash, height: job.height, boundary: job.boundary }, nonce);
    if (!valid) {
      record.verdict = 'invalid';
      return rejected(`Incorrect Nonce! worker_id = ${worker}!`);
    }
    // Another submit of the same nonce may have been verified meanwhile.
    if (entry.solved.has(nonce)) return duplicate();
    if (this.behaviour.rejectAllWith !== undefined) {
      record.verdict = 'invalid';
      return rejected(this.behaviour.rejectAllWith);
    }
    entry.solved.add(nonce);
    if (this.behaviour.solvedByOthers > 0) {
      this.behaviour.solvedByOthers--;
      return duplicate();
    }
    record.verdict = 'accepted';
    return { result: this.behaviour.stringResults ? ['true'] : [true] };
  }

  private falseResult(reason: string | undefined): unknown[] {
    const head = this.behaviour.stringResults ? 'false' : false;
    return reason === undefined ? [head] : [head, reason];
  }

  private count(record: SubmitRecord): void {
    const jobRecord = record.job ? this.jobs.get(record.job.jobId) : undefined;
    if (jobRecord) jobRecord.submits++;
    switch (record.verdict) {
      case 'accepted': this.stats.accepted++; if (jobRecord) jobRecord.accepted++; break;
      case 'invalid': this.stats.rejected++; if (jobRecord) jobRecord.invalid++; break;
      case 'stale': this.stats.stale++; if (jobRecord) jobRecord.stale++; break;
      case 'duplicate': this.stats.duplicates++; if (jobRecord) jobRecord.duplicates++; break;
      case 'unparsable': this.stats.unparsable++; break;
      case 'bad-params': this.stats.badRequests++; break;
      case 'error': break;
    }
  }

  private recordJob(job: TestJob): void {
    this.jobs.set(job.jobId, { job, submits: 0, accepted: 0, invalid: 0, duplicates: 0, stale: 0 });
    if (this.jobs.size > MAX_JOB_RECORDS) this.jobs.delete(this.jobs.keys().next().value as string);
  }

  // -------------------------------------------------------------------------------------------
  // Output

  private broadcastJob(job: TestJob): void {
    // One id per broadcast, as the node's push_work_all does.
    const id = this.notifyId++;
    for (const c of this.conns.values()) if (c.subscribed) this.sendNotify(c, job, id);
  }

  private sendNotify(conn: NodeConn, job: TestJob, id: number): void {
    this.stats.notifies++;
    this.send(conn, `${this.notifyLine(job, id)}\n`);
  }

  private reply(conn: NodeConn, id: JsonRpcId, body: { result: unknown } | { error: { code: number; message: string } }): void {
    const line = 'result' in body
      ? JSON.stringify({ jsonrpc: '2.0', result: body.result, id })
      : JSON.stringify({ jsonrpc: '2.0', error: body.error, id });
    this.send(conn, `${line}\n`);
  }

  private send(conn: NodeConn, text: string | Buffer): void {
    if (this.behaviour.silent || conn.socket.destroyed) return;
    conn.queue.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
    if (conn.flushing) return;
    switch (this.behaviour.chunking) {
      case 'none': return this.flushNow(conn);
      case 'merge': return this.flushMerged(conn);
      case 'split': return this.flushSplit(conn);
    }
  }

  private flushNow(conn: NodeConn): void {
    for (const buf of conn.queue) conn.socket.write(buf);
    conn.queue = [];
  }

  /** Everything queued during this tick leaves in one write. */
  private flushMerged(conn: NodeConn): void {
    conn.flushing = true;
    setImmediate(() => {
      conn.flushing = false;
      if (conn.socket.destroyed) return;
      const all = Buffer.concat(conn.queue);
      conn.queue = [];
      if (all.length > 0) conn.socket.write(all);
    });
  }

  /** A few bytes per event-loop turn, so the miner sees messages cut at arbitrary points. */
  private flushSplit(conn: NodeConn): void {
    conn.flushing = true;
    const step = (): void => {
      const head = conn.queue[0];
      if (!head || conn.socket.destroyed) {
        conn.flushing = false;
        if (conn.socket.destroyed) conn.queue = [];
        return;
      }
      const n = Math.min(head.length, 1 + randomInt(7));
      conn.socket.write(head.subarray(0, n));
      if (n === head.length) conn.queue.shift();
      else conn.queue[0] = head.subarray(n);
      setImmediate(step);
    };
    step();
  }
}

/** Hostile lines a broken or malicious node might send. */
export const GARBAGE_LINES: string[] = [
  'this is not json',
  '{"id": 17, "method": "mining.notify", "params": ["0xzz", "1", "0x00", "0x0"]}',
  '[1, 2, 3]',
  '42',
  '{"id": 18, "method": "mining.notify", "params": "nope"}',
  '{"id": 19, "method": "mining.notify", "params": ["0x01", "-5", "0x' + '00'.repeat(32) + '", "0xff"]}',
  '{"id": 20, "method": "mining.notify", "params": ["0x01", "1", "0x' + '00'.repeat(32) + '", "0x0"]}',
  '{"jsonrpc": "2.0", "result": true, "id": 99999}',
  '{"unbalanced": ',
  '\u0000\u0001\u0002 binary noise \u00ff',
];

function tryHexUint(text: string): bigint | undefined {
  try {
    return parseHexUint(text, 'nonce', 256);
  } catch {
    return undefined;
  }
}

/** H256 from hex as the node parses it: exactly 64 digits after an optional 0x. */
function tryHash(text: string): Buffer | undefined {
  const body = text.startsWith('0x') ? text.slice(2) : text;
  return /^[0-9a-fA-F]{64}$/.test(body) ? Buffer.from(body, 'hex') : undefined;
}
