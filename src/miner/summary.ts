// The miner's state in one snapshot: what GET /summary answers, what /metrics and the dashboard
// render and /history samples. The farm builds it (farm.ts); the API only serialises it. Here,
// below both, so the stats server and its history need not import each other.
import type { HashrateRates } from './hashrate.js';

/**
 * The stratum client's connection state (stratum/client.ts moves through it). Written here, in the
 * miner's room, as SubmitTarget is in pool.ts: the farm reads it, and the stratum room imports it
 * from here, so the arrow keeps pointing from stratum to miner.
 */
export type ConnectionState =
  | 'idle' | 'connecting' | 'connected' | 'subscribed' | 'disconnected' | 'backoff' | 'refused' | 'closed';

/** The link to the node as /summary names it: "connected" means subscribed, with work to hash. */
export type LinkState = 'disconnected' | 'connecting' | 'subscribing' | 'connected' | 'refused';

/** The one mapping from the client's state to the summary's. */
export function linkState(s: ConnectionState): LinkState {
  switch (s) {
    case 'connecting': return 'connecting';
    case 'connected': return 'subscribing';
    case 'subscribed': return 'connected';
    case 'refused': return 'refused';
    default: return 'disconnected';
  }
}

/** The node's answers as a pool dashboard shows them (books.ts shareSummary): stale covers both kinds. */
export interface ShareTally {
  accepted: number;
  rejected: number;
  stale: number;
}

/**
 * Only a dataset build reports progress: a cache takes a few seconds and shows its progress in
 * the log alone. 'idle' covers light and keccak mode, and full mode given up.
 */
export type DatasetState = 'idle' | 'building-dataset' | 'ready';

/** What the miner reports; the farm builds one per request from live state. */
export interface Summary {
  version: string;
  uptime_s: number;
  algo: string;
  mode: string;
  threads: number;
  /** H/s per window; null until the window has data (HashrateMeter.rates); threads: each thread's 10 s rate. */
  hashrate: HashrateRates & { threads: (number | null)[] };
  shares: ShareTally;
  /** difficulty is exact: a bigint here, a decimal string in the JSON. */
  job: { id: string; height: number | null; difficulty: bigint; /** seconds since it arrived */ age_s: number } | null;
  connection: { host: string | null; port: number | null; state: LinkState };
  /**
   * progress: 0..1 of the dataset build in progress (1 when ready, 0 when idle).
   * huge_pages_fraction: the measured share of the dataset in use on huge pages (1 for explicit
   * pages, the kernel's count for transparent ones, read at most once a minute); null without one.
   */
  dataset: { state: DatasetState; progress: number; huge_pages_fraction: number | null };
  /** Hashes computed since start, all threads. */
  hashes: number;
  /** The best (highest-difficulty) hash since start, re-checked on the host; null before the first share. difficulty = floor((2^256-1)/hash). */
  best: { difficulty: bigint; nonce: string /* "0x..", hex */; job: string /* job id */; height: number | null } | null;
  /** Seconds one block is expected to take: job difficulty / hashrate; null without a job or a rate. */
  expected_block_s: number | null;
  /** Sum over hashes of 1 / their job's difficulty since start or the last accepted solution (1.0 = one block was expected). */
  effort: number;
  /** Internal shares: hashes at share_difficulty re-hashed on the host by an independent path. */
  self_check: { share_difficulty: bigint | null; checked: number; invalid: number; effective_hps: number | null };
  /** The start-up self-test of every kernel the CPU selected. */
  self_test: { ok: boolean; kernels: { name: string; ok: boolean; ms: number }[] };
  /** What GET /health answers. */
  health: { ok: boolean; reasons: string[] };
}
