/**
 * Time for the interpreter: abortable sleeps and timers of any length. Wait states and Retry intervals
 * are multiplied by the execution's time scale (1 on `npm start`; tests may run them faster).
 */

/** The longest delay `setTimeout` honours (2^31-1 ms, ~24.8 days): a longer one fires after 1 ms. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** Thrown by an interpreter await when its execution (or its Map iteration / Parallel branch) is aborted. */
export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

/**
 * `setTimeout` for any delay (Task TimeoutSeconds and HeartbeatSeconds go up to 99999999 s): a delay
 * beyond the timer limit is armed in chunks until its deadline. Returns the function that cancels it.
 */
export function setLongTimeout(callback: () => void, delayMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const deadline = Date.now() + delayMs;
  const arm = (): void => {
    const remaining = deadline - Date.now();
    if (remaining <= 0 && delayMs > MAX_TIMER_DELAY_MS) {
      timer = undefined;
      callback();
      return;
    }
    timer =
      delayMs <= MAX_TIMER_DELAY_MS
        ? setTimeout(callback, Math.max(delayMs, 0))
        : setTimeout(arm, Math.min(remaining, MAX_TIMER_DELAY_MS));
  };
  arm();
  return () => clearTimeout(timer);
}

/** Resolves after `ms`, or rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new AbortedError());
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(new AbortedError());
    };
    const cancel = setLongTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles with `work`, or rejects with AbortedError as soon as `signal` aborts (the work is abandoned). */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new AbortedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Lets every other ready branch run first (a macrotask): Parallel branches advance in step, as on AWS. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
