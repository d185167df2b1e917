// What the engine needs from a pool (the stratum client implements it): the one contract
// between the two rooms, owned by the miner so that arrows point from stratum to miner only.
import type { Job } from './job.js';

export type SubmitStatus = 'accepted' | 'rejected' | 'timeout' | 'error' | 'disconnected';

export interface SubmitResult {
  /**
   * accepted / rejected: the node's verdict. timeout: no reply within the request timeout.
   * error: a JSON-RPC error object or an unreadable reply. disconnected: not connected, or the
   * connection dropped before the reply (the node may or may not have seen it).
   */
  status: SubmitStatus;
  /** The node's reason for a rejection, or what went wrong; safe to log (masked where it entered). */
  reason?: string;
  /** JSON-RPC error code when status is 'error' and the node sent one. */
  code?: number;
  /** From writing the request to its reply (or to the timeout/drop). */
  rttMs: number;
  /**
   * Set with 'disconnected' when nothing was written (no connection): the node cannot have seen
   * this nonce, so a resubmit of it is its first submit.
   */
  notSent?: true;
}

/** Where solutions go. Always resolves, never hangs past the pool's request timeout. */
export interface SubmitTarget {
  /**
   * `onLate`: the node's verdict (accepted, rejected or error), when it arrives after the
   * promise resolved as 'timeout'; called at most once, and never for any other status. The
   * pool keeps a bounded number of timed-out submits for a bounded time: past those bounds a
   * verdict that comes anyway is ignored and the submit stays timed out.
   */
  submit(job: Job, nonce: bigint, onLate?: (late: SubmitResult) => void): Promise<SubmitResult>;
}
