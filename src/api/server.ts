// The read-only stats server (xmrig's HTTP API, smaller): GET /summary as JSON, GET /history
// (the bounded recent past), GET /metrics for Prometheus, GET /health for probes and GET / (a
// dashboard page), on 127.0.0.1 unless told otherwise, optionally behind a bearer token (all but
// /health and the page), and only for requests whose Host names this server (host-check.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { MinerError, UsageError, messageOf } from '../errors.js';
import type { Logger } from '../log/types.js';
import { fromNode } from '../log/untrusted.js';
import type { HistoryJson } from '../miner/history.js';
import type { Summary } from '../miner/summary.js';
import { DASHBOARD_ASSETS } from './dashboard.js';
import { HostAllowList, canonicalAddress, isLoopbackName } from './host-check.js';

export interface ApiServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * More names the Host header may carry (--http-allow-host), `name` or `name:port`: a reverse
   * proxy's or a DNS name's. Loopback names and the bound address are always allowed.
   */
  allowHosts?: readonly string[];
  getSummary: () => Summary;
  /** Serves GET /history when given. */
  getHistory?: () => HistoryJson;
  registry: Registry;
  logger: Logger;
  /** Connections held at once; more are closed as they arrive. Default MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A connection with no traffic for this long is closed. Default IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** Time allowed for a request's headers. Default HEADERS_TIMEOUT_MS. */
  headersTimeoutMs?: number;
  /** Time allowed for a whole request. Default REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** Keep-alive wait for the next request after a response. Default KEEP_ALIVE_TIMEOUT_MS. */
  keepAliveTimeoutMs?: number;
}

/**
 * Why a cap at all: every connection is a file descriptor, and the miner shares its descriptor
 * budget (often a soft limit of 1024, or far less under systemd or a container) with the stratum
 * link it lives by. A local script that opens connections in a loop must not be able to take
 * the last descriptor the miner needs to reconnect to its node. 64 is far more than honest
 * clients use (a browser opens up to 6 per origin, Prometheus 1 or 2), and far below any limit.
 */
export const MAX_CONNECTIONS = 64;
/** Idle sockets (opened and never used, or kept alive and forgotten) give their slot back after this. */
export const IDLE_TIMEOUT_MS = 30_000;
/** Slow-header clients (slowloris) are cut off after this; every honest request is one small GET. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 15_000;
/** A browser polls every few seconds; 5 s keeps its connection warm between polls without hoarding. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export interface ApiServer {
  /** The port actually bound. */
  readonly port: number;
  readonly host: string;
  /** Connections closed at once because MAX_CONNECTIONS were already open. */
  readonly droppedConnections: number;
  /** Connections open now. */
  openConnections(): Promise<number>;
  /** Stops listening and drops open connections; resolves when no handle is left. */
  close(): Promise<void>;
}

/** The page may load only what this server serves: no CDN, no fonts, no beacons, even if edited. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Resolves once listening; rejects with UsageError when the address is taken or not ours to bind. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const hosts = new HostAllowList(host, opts.allowHosts); // a bad entry is a UsageError before anything listens
  const tokenDigest = opts.token === undefined ? undefined : digest(opts.token);
  const headersTimeout = opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const misdirected = { warned: false };
  const server = createServer({
    headersTimeout,
    requestTimeout: Math.max(opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, headersTimeout),
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS,
    // The header and request timeouts are only checked this often: never coarser than they are.
    connectionsCheckingInterval: Math.min(headersTimeout, 30_000),
  }, (req, res) => {
    handle(req, res, opts, tokenDigest, hosts, misdirected).catch((err: unknown) => {
      opts.logger.warn('api', 'request failed', { path: pathOf(req), error: messageOf(err) });
      if (!res.headersSent) send(res, req, 500, 'application/json; charset=utf-8', jsonBody({ error: 'internal error' }));
      else res.destroy();
    });
  });
  const dropped = limitServer(server, opts, host);
  await listen(server, host, opts.port);
  const port = (server.address() as AddressInfo).port;

  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.logger.info('api', `stats API on ${base}/summary, /metrics and /health, dashboard on ${base}/` +
    (tokenDigest ? ' (bearer token required)' : ''));
  const bound = canonicalAddress(host);
  if ((bound === null || !isLoopbackName(bound)) && tokenDigest === undefined) {
    opts.logger.warn('api', 'the stats API listens beyond this machine without a token: anyone who can reach it can read it; set --http-token');
  }
  return {
    port, host,
    get droppedConnections() { return dropped.count; },
    openConnections: () => new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    close: () => close(server),
  };
}

/**
 * The connection cap and the idle timeout (the other timeouts are createServer options).
 * At the cap, a new connection first evicts the oldest one that has no request in progress
 * (opened and never used, slow headers, or kept alive and forgotten), so a flood of idle
 * sockets can never lock Prometheus or the dashboard out; only when every held connection is
 * busy is the newcomer closed. Either way one connection goes at once, and it is counted.
 */
function limitServer(server: Server, opts: ApiServerOptions, host: string): { count: number } {
  const dropped = { count: 0 };
  const cap = opts.maxConnections ?? MAX_CONNECTIONS;
  // Insertion order is arrival order, so the first idle one found is the oldest.
  const open = new Map<Socket, { busy: number }>();
  let warned = false;
  server.on('connection', (socket: Socket) => {
    if (open.size >= cap) {
      const victim = [...open].find(([, state]) => state.busy === 0)?.[0] ?? socket;
      dropped.count++;
      if (!warned) {
        warned = true;
        opts.logger.warn('api', `stats API on ${host}: ${cap} connections open, closing the oldest idle ones ` +
          '(a client that opens connections and never uses them?)');
      }
      open.delete(victim);
      victim.destroy();
      if (victim === socket) return;
    }
    open.set(socket, { busy: 0 });
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const state = open.get(req.socket);
    if (!state) return;
    state.busy++;
    res.once('close', () => { state.busy--; });
  });
  // With no 'timeout' listener, Node destroys a socket that has been silent this long.
  server.setTimeout(opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS);
  return dropped;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = `${host}:${port}`;
      if (err.code === 'EADDRINUSE') reject(new UsageError(`stats API: ${where} is already in use; choose another --http-port`, { cause: err }));
      else if (err.code === 'EACCES') reject(new UsageError(`stats API: not allowed to listen on ${where}; use a port above 1023`, { cause: err }));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new UsageError(`stats API: ${host} is not an address of this machine; check --http-host`, { cause: err }));
      else reject(new MinerError(`stats API: cannot listen on ${where}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive clients (Prometheus, a browser tab) would otherwise hold the server open.
    server.closeAllConnections();
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ApiServerOptions,
  tokenDigest: Buffer | undefined, hosts: HostAllowList, misdirected: { warned: boolean }): Promise<void> {
  const path = pathOf(req);
  // First, for every path: a page on another site that rebinds its DNS name to this machine
  // sends its own name as Host, and must learn nothing, not even that a miner is here.
  if (!hosts.allows(req.headers.host)) return refuseHost(req, res, opts, path, misdirected);
  const readOnly = req.method === 'GET' || req.method === 'HEAD';
  // The dashboard's page, script and style hold no data (they fetch it with the token), so they
  // are served to anyone: that is how a browser gets the page that asks for the token.
  const asset = DASHBOARD_ASSETS.get(path);
  if (asset && readOnly) {
    res.setHeader('Content-Security-Policy', CSP);
    send(res, req, 200, asset.contentType, asset.body);
    return logRequest(opts, req, path, 200);
  }
  // A load balancer or a blackbox probe has no token; ok, the reasons and the uptime are no secret.
  if (path === '/health' && readOnly) {
    const { health, uptime_s } = opts.getSummary();
    return finish(res, req, opts, path, health.ok ? 200 : 503, { ok: health.ok, reasons: health.reasons, uptime_s });
  }
  // Authentication comes next so an unauthenticated client learns nothing, not even which data paths exist.
  if (tokenDigest && !authorized(req.headers.authorization, tokenDigest)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="cfx-miner"');
    return finish(res, req, opts, path, 401, { error: 'unauthorized: send Authorization: Bearer <token>' });
  }
  if (!readOnly) {
    res.setHeader('Allow', 'GET, HEAD');
    return finish(res, req, opts, path, 405, { error: 'method not allowed: this API is read-only' });
  }
  if (path === '/summary') return finish(res, req, opts, path, 200, opts.getSummary());
  if (path === '/history' && opts.getHistory) return finish(res, req, opts, path, 200, opts.getHistory());
  if (path === '/metrics') {
    const text = await opts.registry.metrics();
    send(res, req, 200, opts.registry.contentType, Buffer.from(text, 'utf8'));
    return logRequest(opts, req, path, 200);
  }
  return finish(res, req, opts, path, 404, { error: 'not found: try /, /summary, /history, /metrics or /health' });
}

/** 421 for a Host that does not name this server; the first one is logged, its Host made safe to print. */
function refuseHost(req: IncomingMessage, res: ServerResponse, opts: ApiServerOptions, path: string,
  misdirected: { warned: boolean }): void {
  const shown = req.headers.host === undefined ? 'no Host header' : `Host ${JSON.stringify(fromNode(req.headers.host, 100))}`;
  if (!misdirected.warned) {
    misdirected.warned = true;
    opts.logger.warn('api', `refused a request with ${shown} (421): not a name of this stats API ` +
      '(a web page rebinding its DNS name to this machine, or a reverse proxy whose name is missing from --http-allow-host)');
  }
  finish(res, req, opts, path, 421, {
    error: `misdirected request: this stats API does not answer to ${shown}; ` +
      'if that name should reach it (a reverse proxy, a DNS name), add it with --http-allow-host',
  });
}

function finish(res: ServerResponse, req: IncomingMessage, opts: ApiServerOptions, path: string,
  status: number, body: unknown): void {
  send(res, req, status, 'application/json; charset=utf-8', jsonBody(body));
  logRequest(opts, req, path, status);
}

function logRequest(opts: ApiServerOptions, req: IncomingMessage, path: string, status: number): void {
  // Only method, path and status: headers would carry the token.
  opts.logger.debug('api', `${req.method ?? '?'} ${path} ${status}`, { from: req.socket.remoteAddress });
}

function send(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', body.length);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(req.method === 'HEAD' ? undefined : body);
}

function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/';
  }
}

/** JSON with every bigint (difficulties) as a decimal string, exact at any size. */
function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n', 'utf8');
}

// Comparing fixed-length digests in constant time hides both the token and its length.
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function authorized(header: string | undefined, tokenDigest: Buffer): boolean {
  const match = /^Bearer[ \t]+(.*?)[ \t]*$/i.exec(header ?? '');
  return timingSafeEqual(digest(match?.[1] ?? ''), tokenDigest) && match !== null;
}
