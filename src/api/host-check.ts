// Which Host header values the stats API answers. A browser sends the name it resolved, so a page
// on evil.example whose DNS answer flips to 127.0.0.1 (DNS rebinding) reaches the miner with
// `Host: evil.example`; answering only names that really designate this server (loopback, the
// bound address, the operator's --http-allow-host list) stops that page from reading anything,
// token or not. Pure apart from os.networkInterfaces(), read per request for a wildcard bind so an
// address that arrives later (DHCP) works without a restart.
import net from 'node:net';
import os from 'node:os';
import { UsageError } from '../errors.js';

/** A Host value or an allow-list entry: the canonical name and the port, if one was given. */
export interface HostName {
  /** Lower case, punycode, IPv4 dotted-decimal, IPv6 in brackets and compressed, no trailing dot. */
  name: string;
  port: number | null;
}

/** No real Host value comes near this; a longer one is refused before any parsing. */
const MAX_HOST_CHARS = 300;
/** A name part: anything but URL delimiters, whitespace and controls (the URL parser does the rest). */
const NAME = /^[^\s\u0000-\u001f\u007f:/?#@[\]\\%]+$/u;

/**
 * `name`, `name:port`, `[v6]`, `[v6]:port` (and, for allow-list entries, a bare IPv6) in the
 * WHATWG URL parser's canonical form, as a browser would send it; null when malformed.
 */
export function parseHostName(text: string, allowBareIPv6 = false): HostName | null {
  if (text.length === 0 || text.length > MAX_HOST_CHARS) return null;
  let host = text;
  let portText: string | undefined;
  if (allowBareIPv6 && net.isIPv6(text)) {
    host = `[${text}]`;
  } else {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(text);
    if (!m) return null;
    host = m[1]!;
    portText = m[2];
    if (!host.startsWith('[') && !NAME.test(host)) return null;
  }
  const port = portText === undefined ? null : Number(portText);
  if (port !== null && port > 65535) return null;
  let name: string;
  try {
    name = new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? null : { name, port };
}

/** A bind address (`127.0.0.1`, `::1`, `0.0.0.0`, `localhost`) in the same canonical form. */
export function canonicalAddress(address: string): string | null {
  return parseHostName(address, true)?.name ?? null;
}

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** ::ffff:127.x.y.z, which the URL parser writes as hex words. */
const MAPPED_LOOPBACK = /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/;

/** localhost, 127.0.0.0/8 and ::1 (and ::ffff:127.0.0.0/104): names that never leave this machine. */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '[::1]' || IPV4_LOOPBACK.test(name) || MAPPED_LOOPBACK.test(name);
}

const WILDCARDS = new Set(['0.0.0.0', '[::]']);

export class HostAllowList {
  private readonly bound: string | null;
  private readonly wildcard: boolean;
  private readonly extra: HostName[];

  /**
   * `bound` is --http-host; `allow` is --http-allow-host (names, `name:port` to allow only that
   * port). Throws UsageError naming the first malformed entry.
   */
  constructor(bound: string, allow: readonly string[] = []) {
    this.bound = canonicalAddress(bound);
    this.wildcard = this.bound !== null && WILDCARDS.has(this.bound);
    this.extra = allow.map((entry) => {
      const parsed = parseHostName(entry.trim(), true);
      if (!parsed) {
        throw new UsageError(`--http-allow-host: ${JSON.stringify(entry.slice(0, 80))} is not a host name, ` +
          'host:port, IP address or [ipv6]:port');
      }
      return parsed;
    });
  }

  /** Whether a request with this Host header (undefined: none was sent) is for this server. */
  allows(header: string | undefined): boolean {
    if (header === undefined) return false;
    const host = parseHostName(header);
    if (!host) return false;
    if (isLoopbackName(host.name) || host.name === this.bound) return true;
    if (this.extra.some((e) => e.name === host.name && (e.port === null || e.port === host.port))) return true;
    return this.wildcard && interfaceNames().has(host.name);
  }
}

function interfaceNames(): Set<string> {
  const names = new Set<string>();
  for (const list of Object.values(os.networkInterfaces())) {
    for (const info of list ?? []) {
      const name = canonicalAddress(info.address);
      if (name !== null) names.add(name);
    }
  }
  return names;
}
