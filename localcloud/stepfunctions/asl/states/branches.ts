/** Concurrent work of Parallel and Map: every unit runs; the first failure cancels the rest. */
import { AbortedError } from '../clock';
import type { ChildOutcome, Frame } from '../run';
import type { JsonValue } from '../types';

/**
 * Runs `units` (each given a signal that aborts once any unit has failed or `parent` aborts), waits for
 * all of them to settle, and resolves with their results in order, or rejects with the first failure.
 * `onAborted(index)` is told of each unit that ended because of another's failure.
 */
export async function runAll<T>(
  count: number,
  parent: AbortSignal,
  start: (index: number, signal: AbortSignal) => Promise<T>,
  options: { maxConcurrency?: number } = {},
): Promise<T[]> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  parent.addEventListener('abort', abort, { once: true });
  const results: T[] = new Array<T>(count);
  let failure: { error: unknown } | undefined;
  let next = 0;
  const limit = options.maxConcurrency && options.maxConcurrency > 0 ? options.maxConcurrency : count;
  const worker = async (): Promise<void> => {
    while (next < count && !failure && !controller.signal.aborted) {
      const index = next++;
      try {
        results[index] = await start(index, controller.signal);
      } catch (error) {
        if (!failure && !(error instanceof AbortedError && !parent.aborted && controller.signal.aborted)) {
          failure = { error };
          controller.abort();
        }
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(limit, count); i++) workers.push(worker());
  await Promise.all(workers);
  parent.removeEventListener('abort', abort);
  if (parent.aborted) throw new AbortedError();
  if (failure) throw failure.error;
  return results;
}

/**
 * Runs one branch/iteration (`work`, in `frame`) and records what became of it in `outcomes` — or, when
 * a redrive finds it done last time (`previous`), hands back its output without running it again; one that
 * stopped short continues from its checkpoint.
 */
export async function runChild(
  index: number,
  frame: Frame,
  previous: ReadonlyMap<number, ChildOutcome> | undefined,
  outcomes: Map<number, ChildOutcome>,
  work: () => Promise<JsonValue>,
): Promise<JsonValue> {
  const before = previous?.get(index);
  if (before?.done) {
    outcomes.set(index, before);
    return before.output;
  }
  if (before?.checkpoint) frame.resume = before.checkpoint;
  try {
    const output = await work();
    outcomes.set(index, { done: true, output });
    return output;
  } catch (error) {
    outcomes.set(index, { done: false, ...(frame.checkpoint ? { checkpoint: frame.checkpoint } : {}) });
    throw error;
  }
}

/** The outcomes of a Parallel/Map attempt, kept in the checkpoint of the state for a redrive. */
export function trackOutcomes(frame: Frame): Map<number, ChildOutcome> {
  const outcomes = new Map<number, ChildOutcome>();
  if (frame.checkpoint) frame.checkpoint.children = outcomes;
  return outcomes;
}
