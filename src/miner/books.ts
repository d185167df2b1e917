// The books: where every solution the search found ended up, the two identities that must hold
// between those counts, and how a pool dashboard shows them. Counted by the engine (before a
// solution is sent) and the Submitter (from the send on); read by the summary and the tests.
import type { ShareTally } from './summary.js';

/**
 * The books. Every solution found ends in exactly one place:
 * found = submitted + droppedStale + droppedInvalid + droppedBacklog + lost + withheld + checking + inFlight + pending,
 * and submitted = accepted + rejected + timedOut (rejected includes the node's "stale" answers).
 * A verdict that arrives after its submit timed out moves it from timedOut to accepted or rejected.
 */
export interface ShareCounts {
  found: number;
  submitted: number;
  accepted: number;
  rejected: number;
  /** Of `rejected`: the node said the job was stale. */
  rejectedStale: number;
  timedOut: number;
  /** Never sent: its job had been replaced before it could go out. */
  droppedStale: number;
  /** Never sent: failed the host-side re-check. */
  droppedInvalid: number;
  /** Never sent: the pipeline was full (MAX_CHECKING, MAX_SUBMITTING, or the native queue). */
  droppedBacklog: number;
  /** The connection dropped before the node answered, and the node came back with other work. */
  lost: number;
  /** Never sent: the node was rejecting this miner's proof of work (see MiningEngine.powMismatch). */
  withheld: number;
  /** In the host re-check now. */
  checking: number;
  inFlight: number;
  /** Waiting for the connection to return with the same job. */
  pending: number;
}

export function emptyShareCounts(): ShareCounts {
  return {
    found: 0, submitted: 0, accepted: 0, rejected: 0, rejectedStale: 0, timedOut: 0, droppedStale: 0, droppedInvalid: 0,
    droppedBacklog: 0, lost: 0, withheld: 0, checking: 0, inFlight: 0, pending: 0,
  };
}

/** Shares as a pool dashboard shows them: stale = never sent because replaced, or called stale by the node. */
export function shareSummary(c: ShareCounts): ShareTally {
  return { accepted: c.accepted, rejected: c.rejected - c.rejectedStale, stale: c.droppedStale + c.rejectedStale };
}

/** The two identities of ShareCounts; both hold at every moment the event loop is idle. */
export function booksBalance(c: ShareCounts): boolean {
  return c.found === c.submitted + c.droppedStale + c.droppedInvalid + c.droppedBacklog + c.lost + c.withheld + c.checking + c.inFlight + c.pending &&
    c.submitted === c.accepted + c.rejected + c.timedOut;
}
