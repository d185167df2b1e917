// The stratum client's options, defaults, events and statistics (client.ts implements them).
import type { NodeRefusedError } from '../errors.js';
import type { HostSpec } from '../config/hosts.js';
import type { Logger } from '../log/types.js';
import type { Job } from '../miner/job.js';
import type { Endpoint } from './connection.js';
import type { SubmitResult } from '../miner/pool.js';
import type { ConnectionState } from '../miner/summary.js';

export type { Endpoint } from './connection.js';
/** The client's states: the farm reads them, so the miner's room defines them (see miner/summary.ts). */
export type { ConnectionState } from '../miner/summary.js';

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
  /** How long a timed-out submit still takes its late verdict; default LATE_REPLY_WINDOW_MS (5 min). Tests shorten it. */
  lateReplyWindowMs?: number;
}


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

export interface JobInfo extends Endpoint {
  /** True when the job asks for exactly the same work as the previous one (the node's periodic re-send). */
  resent: boolean;
  /** 4: with height; 3: the older form without it (job.height is undefined). */
  paramCount: 3 | 4;
}

export interface BadLineInfo extends Endpoint {
  reason: string;
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
  /** Replies for no request the client still knows: never sent, or timed out and since forgotten. */
  lateReplies: number;
  /** Submit verdicts that came after the request timed out and were handed to the submitter. */
  lateVerdicts: number;
  /** Timed-out submits given up for good (window passed, connection closed, over MAX_TIMED_OUT_KEPT). */
  lateForgotten: number;
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

/** Which counter each outcome of a submit adds to. */
export const COUNTER_OF = {
  accepted: 'accepted', rejected: 'rejected', timeout: 'timeouts', error: 'errors', disconnected: 'errors',
} as const satisfies Record<SubmitResult['status'], keyof ClientStats>;

/** Timeouts, backoff and log limits when the options leave them out. */
export const CLIENT_DEFAULTS = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 180_000,
  primaryProbeIntervalMs: 60_000,
  keepAliveMs: 15_000,
  backoff: { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 },
  badLineLog: { limit: 10, windowMs: 60_000 },
};

/** The client's timeouts, options over CLIENT_DEFAULTS; a zero, negative or non-finite one is refused. */
export interface ClientTiming { requestMs: number; connectMs: number; idleMs: number; probeMs: number; keepAliveMs: number }

export function clientTiming(o: StratumClientOptions): ClientTiming {
  return {
    requestMs: positive(o.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs'),
    connectMs: positive(o.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs, 'connectTimeoutMs'),
    idleMs: positive(o.idleTimeoutMs ?? CLIENT_DEFAULTS.idleTimeoutMs, 'idleTimeoutMs'),
    probeMs: positive(o.primaryProbeIntervalMs ?? CLIENT_DEFAULTS.primaryProbeIntervalMs, 'primaryProbeIntervalMs'),
    keepAliveMs: o.keepAliveMs ?? CLIENT_DEFAULTS.keepAliveMs,
  };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}
