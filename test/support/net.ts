// Loopback helpers for tests.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

/** A port nobody listens on right now (bound once on 127.0.0.1, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request on a fresh connection (no agent: a test sees exactly the connections it
 * makes) to `address` (default 127.0.0.1); the whole body as text. `headers.Host` replaces the
 * Host header the address would give.
 */
export function httpGet(port: number, path: string,
  opts: { method?: string; headers?: Record<string, string>; address?: string } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: opts.address ?? '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
