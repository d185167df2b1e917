// The read-only stats server (xmrig's HTTP API, smaller): GET /summary as JSON and GET /metrics
// for Prometheus, on 127.0.0.1 unless told otherwise, optionally behind a bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MinerError, UsageError, messageOf } from '../errors.js';
import type { Logger } from '../log/types.js';
import type { HashrateRates } from '../miner/hashrate.js';

export type ConnectionState = 'disconnected' | 'connecting' | 'subscribing' | 'connected' | 'refused';
export type DatasetState = 'idle' | 'building-cache' | 'building-dataset' | 'ready';

/** What the miner reports; getSummary builds one per request from live state. */
export interface Summary {
  version: string;
  uptime_s: number;
  algo: string;
  mode: string;
  threads: number;
  /** H/s per window; null until the window has data (HashrateMeter.rates). */
  hashrate: HashrateRates;
  shares: { accepted: number; rejected: number; stale: number };
  /** difficulty is exact: a bigint here, a decimal string in the JSON. */
  job: { id: string; height: number | null; difficulty: bigint } | null;
  connection: { host: string | null; port: number | null; state: ConnectionState };
  /** progress: 0..1 of the build in progress (1 when ready). */
  dataset: { state: DatasetState; progress: number };
}

export interface ApiServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  getSummary: () => Summary;
  registry: Registry;
  logger: Logger;
}

export interface ApiServer {
  /** The port actually bound. */
  readonly port: number;
  readonly host: string;
  /** Stops listening and drops open connections; resolves when no handle is left. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Resolves once listening; rejects with UsageError when the address is taken or not ours to bind. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const tokenDigest = opts.token === undefined ? undefined : digest(opts.token);
  const server = createServer((req, res) => {
    handle(req, res, opts, tokenDigest).catch((err: unknown) => {
      opts.logger.warn('api', 'request failed', { path: pathOf(req), error: messageOf(err) });
      if (!res.headersSent) send(res, req, 500, 'application/json; charset=utf-8', jsonBody({ error: 'internal error' }));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await listen(server, host, opts.port);
  const port = (server.address() as AddressInfo).port;

  opts.logger.info('api', `stats API on http://${host.includes(':') ? `[${host}]` : host}:${port}/summary and /metrics` +
    (tokenDigest ? ' (bearer token required)' : ''));
  if (!LOOPBACK.has(host) && tokenDigest === undefined) {
    opts.logger.warn('api', 'the stats API listens beyond this machine without a token: anyone who can reach it can read it; set --http-token');
  }
  return { port, host, close: () => close(server) };
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
  tokenDigest: Buffer | undefined): Promise<void> {
  const path = pathOf(req);
  // Authentication comes first so an unauthenticated client learns nothing, not even which paths exist.
  if (tokenDigest && !authorized(req.headers.authorization, tokenDigest)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="cfx-miner"');
    return finish(res, req, opts, path, 401, { error: 'unauthorized: send Authorization: Bearer <token>' });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return finish(res, req, opts, path, 405, { error: 'method not allowed: this API is read-only' });
  }
  if (path === '/summary') return finish(res, req, opts, path, 200, toJson(opts.getSummary()));
  if (path === '/metrics') {
    const text = await opts.registry.metrics();
    send(res, req, 200, opts.registry.contentType, Buffer.from(text, 'utf8'));
    return logRequest(opts, req, path, 200);
  }
  return finish(res, req, opts, path, 404, { error: 'not found: try /summary or /metrics' });
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

/** The summary as JSON: bigints (difficulty) become decimal strings, exact at any size. */
function toJson(summary: Summary): unknown {
  return { ...summary, job: summary.job && { ...summary.job, difficulty: summary.job.difficulty.toString() } };
}

function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) + '\n', 'utf8');
}

// Comparing fixed-length digests in constant time hides both the token and its length.
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function authorized(header: string | undefined, tokenDigest: Buffer): boolean {
  const match = /^Bearer[ \t]+(.*?)[ \t]*$/i.exec(header ?? '');
  return timingSafeEqual(digest(match?.[1] ?? ''), tokenDigest) && match !== null;
}
