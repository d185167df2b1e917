// What the node's answers mean beyond accepted / rejected, for the engine's books:
// - SentNonces: whether "Problem already solved with nonce = N" answers a nonce this miner had
//   sent before (a resubmit after a reconnect: the node took the first one) or one it never sent
//   (another miner was first). The real node quotes the submitter's own nonce in that message
//   (PROTOCOL.md), so the message alone cannot tell the two apart.
// - PowMismatchWatch: a run of "Incorrect Nonce" answers for solutions that passed this miner's
//   own re-check means the node computes another proof of work (wrong --algo, wrong height): say
//   so once and stop sending until a new job, then send one solution as a probe.

/**
 * Nonces sent for the current job. A resubmit comes after at most MAX_SUBMITTING +
 * MAX_CHECKING (40) other sends of the same job (the ones in the pipeline when the connection
 * dropped), so 1024 never forgets a nonce before its resubmit; at difficulty 1, where a job can
 * see millions of solutions, the set stays at 1024 entries (~100 KiB). Beyond it the oldest is
 * forgotten and counted.
 */
export const MAX_SENT_NONCES = 1024;

/** The nonces sent for one job (the current one), oldest first. */
export class SentNonces {
  private powHash: Buffer | undefined;
  private readonly nonces = new Set<bigint>();
  private forgottenCount = 0;

  get size(): number {
    return this.nonces.size;
  }

  /** Nonces forgotten because of MAX_SENT_NONCES. */
  get forgotten(): number {
    return this.forgottenCount;
  }

  /** Records `nonce` as sent for the job of `powHash` (a new job starts a new set); true if it had been sent before. */
  add(powHash: Buffer, nonce: bigint): boolean {
    if (!this.powHash?.equals(powHash)) {
      this.powHash = powHash;
      this.nonces.clear();
    }
    if (this.nonces.has(nonce)) return true;
    this.nonces.add(nonce);
    if (this.nonces.size > MAX_SENT_NONCES) {
      this.nonces.delete(this.nonces.values().next().value as bigint);
      this.forgottenCount++;
    }
    return false;
  }

  /** The submit never left this miner (no connection): the node cannot have seen the nonce. */
  remove(powHash: Buffer, nonce: bigint): void {
    if (this.powHash?.equals(powHash)) this.nonces.delete(nonce);
  }
}

/**
 * The node's "Problem already solved with nonce = N" (N decimal or hex) names this nonce. The real
 * node always quotes the submitter's own nonce there, so this says only that the nonce was taken:
 * by this miner's earlier submit, or by another miner (SentNonces says which).
 */
export function alreadySolvedBy(reason: string | undefined, nonce: bigint): boolean {
  const m = /already solved with nonce\s*=\s*(0x[0-9a-f]+|\d+)/i.exec(reason ?? '');
  if (!m) return false;
  try {
    return BigInt(m[1]!) === nonce;
  } catch {
    return false;
  }
}

/** "Incorrect Nonce" answers in a row (for solutions that passed the host re-check) that mean a PoW mismatch. */
export const POW_MISMATCH_REJECTIONS = 3;
/**
 * The ERROR line is repeated at most this often while the mismatch lasts: once is enough to act
 * on, and a reminder every ten minutes keeps it on a screen someone looks at later, without
 * filling the log (a probe goes out on every job, about every 10 s).
 */
export const POW_MISMATCH_REPEAT_MS = 10 * 60_000;

/** The node's answer to one submit, as far as the PoW is concerned. */
export type PowVerdict = 'accepted' | 'incorrect' | 'other';

export function isIncorrectNonce(reason: string | undefined): boolean {
  return /incorrect nonce/i.test(reason ?? '');
}

interface Mismatch {
  /** Date.now() when it was detected. */
  since: number;
  /** now() of the last ERROR line. */
  errorAt: number;
  /** The job whose solutions the node called incorrect: nothing more is sent for it. */
  blockedOn: Buffer | undefined;
  /** The one solution sent for a newer job to see whether the node still disagrees. */
  probe: { powHash: Buffer; nonce: bigint } | undefined;
}

export class PowMismatchWatch {
  private run = 0;
  private state: Mismatch | undefined;

  /** `now`: a monotonic clock in ms for the repeat interval; `wallNow`: Unix ms for `since`. */
  constructor(private readonly now: () => number = () => performance.now(), private readonly wallNow: () => number = Date.now) {}

  /** Since when (Unix ms) the node has been rejecting this miner's proof of work; undefined when it is not. */
  get since(): number | undefined {
    return this.state?.since;
  }

  /** "Incorrect Nonce" answers in a row so far. */
  get incorrectInARow(): number {
    return this.run;
  }

  /**
   * Whether a solution may go to the node now. While the node disagrees: nothing for the job it
   * called incorrect, and one probe at a time for a newer job.
   */
  maySend(powHash: Buffer, nonce: bigint): boolean {
    const s = this.state;
    if (!s) return true;
    if (s.probe || s.blockedOn?.equals(powHash)) return false;
    s.probe = { powHash, nonce };
    return true;
  }

  /**
   * The answer to a submit (of any status: a probe that timed out frees the probe slot).
   * `latest`: the solution's job is the current one. Returns 'error' when the ERROR line is due
   * (the mismatch is new, or the last line is older than POW_MISMATCH_REPEAT_MS), 'cleared' when
   * an accepted answer ended it.
   */
  onAnswer(powHash: Buffer, nonce: bigint, verdict: PowVerdict, latest: boolean): 'error' | 'cleared' | undefined {
    const s = this.state;
    if (s?.probe && s.probe.nonce === nonce && s.probe.powHash.equals(powHash)) s.probe = undefined;
    if (verdict === 'accepted') {
      this.run = 0;
      this.state = undefined;
      return s ? 'cleared' : undefined;
    }
    if (verdict !== 'incorrect') return undefined;
    this.run++;
    if (s) {
      if (latest) s.blockedOn = powHash;
      if (this.now() - s.errorAt < POW_MISMATCH_REPEAT_MS) return undefined;
      s.errorAt = this.now();
      return 'error';
    }
    if (this.run < POW_MISMATCH_REJECTIONS) return undefined;
    this.state = { since: this.wallNow(), errorAt: this.now(), blockedOn: latest ? powHash : undefined, probe: undefined };
    return 'error';
  }
}
