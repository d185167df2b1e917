// Node addresses, parsed in one place for the config loader (which checks every entry early)
// and the miner (which connects to them): `host`, `host:port`, `stratum+tcp://host:port`,
// `[ipv6]:port`, bare IPv6. The default port is written here and nowhere else.
import net from 'node:net';
import { clipText } from '../control-chars.js';
import { UsageError } from '../errors.js';

/** Conflux-Rust's default stratum_port. */
export const DEFAULT_PORT = 32525;

export interface HostSpec {
  host: string;
  port: number;
}

const HOST_SPEC_HELP = 'expected host, host:port, stratum+tcp://host:port or [ipv6]:port';
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

/** Parses `host`, `host:port`, `stratum+tcp://host:port`, `[::1]:port`; a UsageError otherwise. */
export function parseHostSpec(spec: string, defaultPort = DEFAULT_PORT): HostSpec {
  let rest = spec.trim();
  const shown = JSON.stringify(clipText(rest, 80));
  if (rest.includes('@')) {
    // Never echo it: the part before @ may be a password.
    throw new UsageError('credentials in a node address are not supported; give the password with --password');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (/(^|\+)(ssl|tls)$/.test(name)) {
      throw new UsageError(`${name}:// in node address ${shown}: TLS is not supported: a Conflux node's stratum port has no TLS; use stratum+tcp:// and keep the port on a private network`);
    }
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
  if (!net.isIP(host) && !HOSTNAME.test(host)) throw new UsageError(`bad node address ${shown}: ${JSON.stringify(clipText(host, 60))} is not a host name or IP address`);
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
