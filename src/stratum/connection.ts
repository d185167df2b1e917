// One TCP connection to one node: connect (with a deadline), keepalive, the idle watch, the
// subscribe outcome, and why it closed. It knows nothing of lines, requests or other hosts; the
// client (client.ts) owns one at a time and is told what happens through the callbacks.
import net from 'node:net';
import type { HostSpec } from '../config/hosts.js';

export interface Endpoint extends HostSpec {
  /** Index into the client's host list. */
  hostIndex: number;
}

export interface ConnectionOptions {
  endpoint: Endpoint;
  connectTimeoutMs: number;
  /** TCP keepalive initial delay; 0 turns it off. */
  keepAliveMs: number;
  onConnect: (conn: NodeConnection) => void;
  onData: (conn: NodeConnection, chunk: Buffer) => void;
  onClose: (conn: NodeConnection) => void;
}

export class NodeConnection {
  readonly endpoint: Endpoint;
  connected = false;
  subscribed = false;
  /** The socket's first error message, if any. */
  lastError: string | undefined;
  /** Set when we close it on purpose; becomes the logged reason. */
  dropReason: string | undefined;
  returningToPrimary = false;
  /** performance.now() of the last byte from the node. */
  lastDataAt = performance.now();
  /** Armed when a request times out: a node silent for two request timeouts is presumed gone. */
  silenceTimer: NodeJS.Timeout | undefined;
  /** Settles when the socket has closed. */
  readonly closed: Promise<void>;
  /** Settles true when the node accepts mining.subscribe, false when the connection closes first. */
  readonly ready: Promise<boolean>;

  private readonly socket: net.Socket;
  private connectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private markReady!: (ok: boolean) => void;

  constructor(private readonly opts: ConnectionOptions) {
    this.endpoint = opts.endpoint;
    let markClosed!: () => void;
    this.closed = new Promise<void>((resolve) => { markClosed = resolve; });
    this.ready = new Promise<boolean>((resolve) => { this.markReady = resolve; });
    const socket = net.connect({ host: opts.endpoint.host, port: opts.endpoint.port });
    this.socket = socket;
    this.connectTimer = setTimeout(() => this.drop(`no TCP connection within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => {
      clearTimeout(this.connectTimer);
      this.connected = true;
      if (opts.keepAliveMs > 0) socket.setKeepAlive(true, opts.keepAliveMs);
      opts.onConnect(this);
    });
    socket.on('data', (chunk: Buffer) => {
      this.touch();
      opts.onData(this, chunk);
    });
    socket.on('error', (err) => { this.lastError ??= err.message; });
    socket.once('close', () => {
      this.clearTimers();
      markClosed();
      this.markReady(false);
      opts.onClose(this);
    });
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  /** Data arrived: the idle watch starts again. */
  touch(): void {
    this.idleTimer?.refresh();
    this.lastDataAt = performance.now();
  }

  write(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** The node accepted mining.subscribe: from now on silence for `idleTimeoutMs` drops it. */
  markSubscribed(idleTimeoutMs: number, onIdle: () => void): void {
    this.subscribed = true;
    this.markReady(true);
    this.idleTimer = setTimeout(onIdle, idleTimeoutMs);
  }

  /** Closes it on purpose; the first reason given is the one logged. */
  drop(reason: string): void {
    this.dropReason ??= reason;
    this.socket.destroy();
  }

  clearTimers(): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.silenceTimer);
  }
}
