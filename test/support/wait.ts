// Waiting in tests without sleeping: for an event, for a condition, or for a promise, each with
// a deadline whose error says what never happened.
import type { EventEmitter } from 'node:events';

const DEFAULT_TIMEOUT_MS = 5_000;

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Any emitter, typed or not (node:events' generic EventEmitter included). */
type AnyEmitter = Pick<EventEmitter, 'on' | 'off'> | { on(event: any, listener: any): unknown; off(event: any, listener: any): unknown };

/**
 * Resolves with the arguments of the first `event` whose arguments pass `filter`.
 * The listener is removed on success and on timeout.
 */
export function waitForEvent<A extends unknown[] = unknown[]>(
  emitter: AnyEmitter, event: string,
  options: { timeoutMs?: number; filter?: (...args: A) => boolean; what?: string } = {},
): Promise<A> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<A>((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      if (options.filter && !options.filter(...(args as A))) return;
      clearTimeout(timer);
      (emitter as EventEmitter).off(event, listener);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      (emitter as EventEmitter).off(event, listener);
      reject(new WaitTimeoutError(options.what ?? `event '${event}'`, timeoutMs));
    }, timeoutMs);
    (emitter as EventEmitter).on(event, listener);
  });
}

/**
 * Resolves once `predicate()` is true. It is re-checked every few milliseconds: the test waits
 * for a state, never for a fixed time, and fails with a clear message at the deadline.
 */
export function waitFor(predicate: () => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a condition'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const started = performance.now();
    const check = (): void => {
      let ok = false;
      try {
        ok = predicate();
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (ok) return resolve();
      if (performance.now() - started >= timeoutMs) return reject(new WaitTimeoutError(what, timeoutMs));
      // Check from an immediate, not from the timer: inside a timer callback that timer still
      // counts as an active resource, which would spoil handle-leak checks.
      setTimeout(() => setImmediate(check), 2);
    };
    check();
  });
}

/**
 * Retries an asynchronous `attempt` (an HTTP poll, say) until it returns a value other than
 * undefined. Rejects at the deadline, when an attempt throws, or at once when `giveUp()` says so
 * (the process under test exited).
 */
export async function pollUntil<T>(attempt: () => Promise<T | undefined>, timeoutMs: number, what: string,
  options: { intervalMs?: number; giveUp?: () => boolean } = {}): Promise<T> {
  const started = performance.now();
  for (;;) {
    if (options.giveUp?.()) throw new Error(`gave up waiting for ${what}`);
    const value = await attempt();
    if (value !== undefined) return value;
    if (performance.now() - started > timeoutMs) throw new WaitTimeoutError(what, timeoutMs);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 20));
  }
}

/** Rejects if `promise` does not settle within `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a promise'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Records every emission of `event` (arguments as an array) until `stop()`. */
export function recordEvents<A extends unknown[] = unknown[]>(emitter: AnyEmitter, event: string): { events: A[]; stop: () => void } {
  const events: A[] = [];
  const listener = (...args: unknown[]): void => { events.push(args as A); };
  (emitter as EventEmitter).on(event, listener);
  return { events, stop: () => { (emitter as EventEmitter).off(event, listener); } };
}

/** Resource types that are ours to leak (sockets, servers, timers), for handle-leak checks. */
export function activeHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout' || r === 'Immediate');
}
