// One error class per kind of failure, each with the exit code the CLI uses for it (STYLE.md).

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  native: 3,
  refused: 4,
  /**
   * `cfx-miner verify`: the nonce does not meet the boundary. An answer, not a failure, so a
   * script can tell it from 1 (the check itself could not run).
   */
  invalid: 5,
  interrupted: 130,
} as const;

export class MinerError extends Error {
  readonly exitCode: number = ExitCode.failure;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags, config file or environment: exit 2. */
export class UsageError extends MinerError {
  override readonly exitCode = ExitCode.usage;
}

/** The native addon cannot be loaded: exit 3. */
export class NativeLoadError extends MinerError {
  override readonly exitCode = ExitCode.native;
}

/**
 * The node refused our subscribe (a wrong password): exit 4. Nothing else ends a run with it: a
 * node that is down or unreachable is retried for as long as the miner runs (stratum/client.ts).
 */
export class NodeRefusedError extends MinerError {
  override readonly exitCode = ExitCode.refused;
}

/**
 * Usage errors are converted to UsageError where user input is read (config, flags, hash
 * arguments); any other error, a TypeError or RangeError from a bug included, is a failure (1).
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof MinerError) return err.exitCode;
  return ExitCode.failure;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A native build (cache, dataset) given up because its signal was aborted: a newer job or the
 * shutdown took over, so it is no failure and has no exit code. The native wrappers throw it;
 * callers test `instanceof AbortError` (its name stays 'AbortError', as DOM and Node name theirs).
 */
export class AbortError extends Error {
  constructor(message = 'cancelled', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
