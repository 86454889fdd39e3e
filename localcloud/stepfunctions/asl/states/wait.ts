/**
 * Wait: waits `Seconds`, until `Timestamp`, or for what `SecondsPath`/`TimestampPath` (JSONPath) or a
 * `{% %}` Seconds/Timestamp (JSONata) read, then passes its input on. The delay is multiplied by the
 * execution's wait scale (1 on `npm start`). A delay beyond 2^31-1 seconds fails at once.
 */
import { sleep } from '../clock';
import { effectiveInput, jsonataBindings, jsonPathScope, stateOutput } from '../dataflow';
import type { WaitState } from '../definition';
import { evaluateJsonata, isJsonataTemplate } from '../jsonata';
import { selectPath, timestampInstant } from '../jsonpath';
import { type StateResult, type StateRun, transition } from '../run';
import { type JsonValue, queryEvaluationError, runtimeError } from '../types';

const MAX_WAIT_SECONDS = 2_147_483_647;

/** Milliseconds from now until an ISO-8601 extended offset date-time; undefined when it is not one. */
function untilTimestamp(text: JsonValue): number | undefined {
  const instant = typeof text === 'string' ? timestampInstant(text) : undefined;
  return instant === undefined ? undefined : Number(instant / 1_000_000n) - Date.now();
}

export async function runWait(run: StateRun<WaitState>): Promise<StateResult> {
  const { state } = run;
  const effective = effectiveInput(run);
  const delayMs = await delay(run, effective);
  if (delayMs > MAX_WAIT_SECONDS * 1000) throw runtimeError('Wait state delay is too long.');
  // Seconds run from the state's entry: a restart taking over (`--persist`) keeps the original deadline
  // (a Timestamp is one already).
  const relative = state.Seconds !== undefined || state.SecondsPath !== undefined;
  const elapsed = relative ? Date.now() - Date.parse(run.enteredTime) : 0;
  await sleep(Math.max(Math.max(delayMs, 0) * run.frame.env.waitScale - elapsed, 0), run.frame.signal);
  if (run.language === 'JSONata') {
    const { output, assign } = await stateOutput(run, run.input);
    return { output, next: transition(state), ...(assign ? { assign } : {}) };
  }
  // JSONPath: Wait has InputPath/OutputPath (no ResultPath); Assign reads the effective input.
  const { output, assign } = await stateOutput(run, effective);
  return { output, next: transition(state), ...(assign ? { assign } : {}) };
}

async function delay(run: StateRun<WaitState>, effective: JsonValue): Promise<number> {
  const { state } = run;
  if (run.language === 'JSONata') {
    if (state.Seconds !== undefined) {
      const seconds = isJsonataTemplate(state.Seconds)
        ? await evaluateJsonata(state.Seconds, jsonataBindings(run), 'Seconds')
        : state.Seconds;
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
        throw queryEvaluationError(
          `The Seconds field must evaluate to a non-negative integer, but evaluated to ${JSON.stringify(seconds)}`,
        );
      return seconds * 1000;
    }
    const timestamp =
      state.Timestamp !== undefined && isJsonataTemplate(state.Timestamp)
        ? await evaluateJsonata(state.Timestamp, jsonataBindings(run), 'Timestamp')
        : (state.Timestamp ?? null);
    const until = untilTimestamp(timestamp);
    if (until === undefined)
      throw queryEvaluationError(
        `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${typeof timestamp === 'string' ? timestamp : JSON.stringify(timestamp)}`,
      );
    return until;
  }
  if (typeof state.Seconds === 'number') return state.Seconds * 1000;
  if (typeof state.Timestamp === 'string') return untilTimestamp(state.Timestamp) ?? 0;
  const scope = jsonPathScope(run, effective);
  if (state.SecondsPath !== undefined) {
    const seconds = selectPath(state.SecondsPath, scope, 'SecondsPath');
    const shown = `${state.SecondsPath} == ${typeof seconds === 'string' ? seconds : JSON.stringify(seconds)}`;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds))
      throw runtimeError(`The SecondsPath parameter cannot be parsed as a long value: ${shown}`);
    if (seconds < 0) throw runtimeError(`The SecondsPath parameter references a negative value: ${shown}`);
    return seconds * 1000;
  }
  if (state.TimestampPath !== undefined) {
    const timestamp = selectPath(state.TimestampPath, scope, 'TimestampPath');
    const until = untilTimestamp(timestamp);
    if (until === undefined) {
      const shown = typeof timestamp === 'string' ? timestamp : JSON.stringify(timestamp);
      throw runtimeError(
        `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${state.TimestampPath} == ${shown}`,
      );
    }
    return until;
  }
  return 0;
}
