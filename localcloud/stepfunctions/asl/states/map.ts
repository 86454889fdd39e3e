/**
 * Map: runs its ItemProcessor once per item and outputs the array of results.
 *
 * - Items: JSONPath `ItemsPath` (default `$`) of the effective input; JSONata `Items` (default the input).
 *   Each item's input is the ItemSelector (legacy: Parameters) evaluated with `$$.Map.Item` = {Index, Value}.
 * - MaxConcurrency(Path): 0 or absent runs all items at once.
 * - Inline (the default): each item is an iteration in this history (MapIterationStarted/Succeeded/Failed);
 *   a failing iteration cancels the others (MapIterationAborted) and fails the Map.
 * - Distributed (`ProcessorConfig.Mode: DISTRIBUTED`): the items are a Map Run of child executions, whose
 *   events are not in this history (MapRunStarted/Succeeded/Failed). ToleratedFailureCount(Path) and
 *   ToleratedFailurePercentage(Path) let that many items fail (each leaves `{Error, Cause}` in the output);
 *   one more fails the Map with States.ExceedToleratedFailureThreshold.
 * - Errors in the Map's own fields (ItemsPath, MaxConcurrencyPath, tolerance paths) fail it with
 *   States.Runtime before any item runs, recording no MapStateFailed.
 */
import { randomUUID } from 'node:crypto';
import { effectiveInput, jsonataBindings, jsonPathScope, stateOutput } from '../dataflow';
import type { ItemProcessor, MapState } from '../definition';
import {
  evaluateJsonata,
  evaluateJsonataTemplate,
  isJsonataTemplate,
  unexpectedResultTypeError,
} from '../jsonata';
import { evaluateTemplate, selectPath } from '../jsonpath';
import { withRetryAndCatch } from '../retry';
import { type ChildOutcome, childFrame, type StateResult, type StateRun, transition } from '../run';
import { type JsonValue, queryEvaluationError, runtimeError, StatesError } from '../types';
import { runAll, runChild, trackOutcomes } from './branches';

export function runMap(run: StateRun<MapState>): Promise<StateResult> {
  const { state } = run;
  const processor = state.ItemProcessor ?? state.Iterator;
  if (!processor) throw runtimeError('The Map state has no ItemProcessor');
  const distributed = processor.ProcessorConfig?.Mode === 'DISTRIBUTED';
  let running = false;
  return withRetryAndCatch(
    run,
    async () => {
      running = false;
      const effective = effectiveInput(run);
      const items = await mapItems(run, effective);
      const maxConcurrency = await concurrency(run, effective);
      run.record('MapStateStarted', { length: items.length });
      // A redrive runs again only the items that did not succeed.
      const known: ItemOutcomes = { previous: run.redrive, outcomes: trackOutcomes(run.frame) };
      run.redrive = undefined;
      const results = distributed
        ? await mapRun(run, processor, items, effective, maxConcurrency, known, () => {
            running = true;
          })
        : await (async () => {
            running = true;
            return inline(run, processor, items, effective, maxConcurrency, known);
          })();
      run.record('MapStateSucceeded');
      const { output, assign } = await stateOutput(run, results);
      return { output, next: transition(state), ...(assign ? { assign } : {}) };
    },
    {
      // JSONPath: a Map failing on its own fields records no MapStateFailed; JSONata's evaluation errors do.
      onFinalFailure: (error) => {
        if (running || error.error === 'States.QueryEvaluationError') run.record('MapStateFailed');
      },
    },
  );
}

export async function mapItems(run: StateRun<MapState>, effective: JsonValue): Promise<JsonValue[]> {
  const { state } = run;
  let items: JsonValue;
  if (run.language === 'JSONata') {
    items =
      state.Items === undefined
        ? run.input
        : await evaluateJsonataTemplate(state.Items, jsonataBindings(run), 'Items');
    if (!Array.isArray(items)) {
      if (typeof state.Items === 'string' && isJsonataTemplate(state.Items))
        throw unexpectedResultTypeError(state.Items, 'Items', 'array', items);
      throw queryEvaluationError(
        `The Items field must be a JSON array or a JSONata expression, but was ${JSON.stringify(items)}`,
      );
    }
    return items;
  }
  for (const field of ['ItemReader', 'ItemBatcher', 'ResultWriter'] as const) {
    if (state[field] !== undefined)
      throw runtimeError(
        `The local cloud does not support ${field} in a distributed Map (it reads and writes no S3 objects): give the items in the state input (ItemsPath)`,
      );
  }
  items =
    state.ItemsPath === undefined
      ? effective
      : selectPath(state.ItemsPath, jsonPathScope(run, effective), 'ItemsPath');
  if (!Array.isArray(items))
    throw runtimeError(
      `Items of the Map state must be a JSON array: ${state.ItemsPath ?? '$'} == ${JSON.stringify(items)}`,
    );
  return items;
}

export async function concurrency(run: StateRun<MapState>, effective: JsonValue): Promise<number> {
  const { state } = run;
  if (typeof state.MaxConcurrency === 'number') return state.MaxConcurrency;
  if (typeof state.MaxConcurrency === 'string' && isJsonataTemplate(state.MaxConcurrency)) {
    const value = await evaluateJsonata(state.MaxConcurrency, jsonataBindings(run), 'MaxConcurrency');
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw queryEvaluationError(
        `The MaxConcurrency field must evaluate to a non-negative integer, but evaluated to ${JSON.stringify(value)}`,
      );
    return value;
  }
  if (state.MaxConcurrencyPath === undefined) return 0;
  let value = selectPath(state.MaxConcurrencyPath, jsonPathScope(run, effective), 'MaxConcurrencyPath');
  if (typeof value === 'string' && /^[+-]?\d{1,9}$/.test(value)) value = Number(value);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    throw runtimeError(
      `The MaxConcurrencyPath field refers to value "${shown}" which is not a valid integer: ${state.MaxConcurrencyPath}`,
    );
  }
  return value;
}

/** An item's input: the ItemSelector (or legacy Parameters) with `$$.Map.Item`, else the item itself. */
async function itemInput(
  run: StateRun<MapState>,
  effective: JsonValue,
  index: number,
  value: JsonValue,
): Promise<JsonValue> {
  const { state } = run;
  const item = { Index: index, Value: value };
  if (run.language === 'JSONata') {
    return state.ItemSelector === undefined
      ? value
      : evaluateJsonataTemplate(state.ItemSelector, jsonataBindings(run, { map: item }), 'ItemSelector');
  }
  const selector = state.ItemSelector ?? state.Parameters;
  if (selector === undefined) return structuredClone(value);
  const field = state.ItemSelector !== undefined ? 'ItemSelector' : 'Parameters';
  return evaluateTemplate(selector, jsonPathScope(run, effective, item), field);
}

/** What a redrive knows of the items (`previous`) and where this attempt records them (`outcomes`). */
interface ItemOutcomes {
  previous: ReadonlyMap<number, ChildOutcome> | undefined;
  outcomes: Map<number, ChildOutcome>;
}

function inline(
  run: StateRun<MapState>,
  processor: ItemProcessor,
  items: JsonValue[],
  effective: JsonValue,
  maxConcurrency: number,
  { previous, outcomes }: ItemOutcomes,
): Promise<JsonValue[]> {
  const details = (index: number) => ({ name: run.name, index });
  return runAll(
    items.length,
    run.frame.signal,
    (index, signal) => {
      // Iterations that run beside others advance in step, as AWS records them (every
      // MapIterationStarted first); with MaxConcurrency 1 each runs to its end before the next starts.
      const frame = childFrame(run.frame, signal, {
        concurrent: maxConcurrency !== 1,
        recorded: true,
        ...(processor.QueryLanguage ? { queryLanguage: processor.QueryLanguage } : {}),
      });
      return runChild(index, frame, previous, outcomes, async () => {
        run.record('MapIterationStarted', details(index));
        try {
          const input = await itemInput(run, effective, index, items[index] ?? null);
          const output = await run.frame.env.runStates(processor, input, frame);
          run.record('MapIterationSucceeded', details(index));
          return output;
        } catch (error) {
          if (signal.aborted && !run.frame.signal.aborted) run.record('MapIterationAborted', details(index));
          else if (!run.frame.signal.aborted) run.record('MapIterationFailed', details(index));
          throw error;
        }
      });
    },
    { maxConcurrency },
  );
}

async function mapRun(
  run: StateRun<MapState>,
  processor: ItemProcessor,
  items: JsonValue[],
  effective: JsonValue,
  maxConcurrency: number,
  { previous, outcomes }: ItemOutcomes,
  onStart: () => void,
): Promise<JsonValue[]> {
  const tolerance = await tolerated(run, effective);
  onStart();
  run.record('MapRunStarted', { mapRunArn: mapRunArn(run) });
  let failures = 0;
  const exceeded = (): boolean => {
    if (tolerance.count === undefined && tolerance.percentage === undefined) return failures > 0;
    return (
      (tolerance.count !== undefined && failures > tolerance.count) ||
      (tolerance.percentage !== undefined && (failures * 100) / items.length > tolerance.percentage)
    );
  };
  try {
    const results = await runAll(
      items.length,
      run.frame.signal,
      async (index, signal) => {
        const frame = childFrame(run.frame, signal, {
          concurrent: false,
          recorded: false,
          ...(processor.QueryLanguage ? { queryLanguage: processor.QueryLanguage } : {}),
        });
        try {
          return await runChild(index, frame, previous, outcomes, async () =>
            run.frame.env.runStates(
              processor,
              await itemInput(run, effective, index, items[index] ?? null),
              frame,
            ),
          );
        } catch (error) {
          if (!(error instanceof StatesError) || signal.aborted) throw error;
          failures++;
          if (exceeded())
            throw new StatesError(
              'States.ExceedToleratedFailureThreshold',
              'The specified tolerated failure threshold was exceeded',
            );
          return error.errorOutput();
        }
      },
      { maxConcurrency },
    );
    run.record('MapRunSucceeded');
    return results;
  } catch (error) {
    if (error instanceof StatesError && error.error === 'States.ExceedToleratedFailureThreshold')
      run.record('MapRunFailed', { error: error.error, cause: error.cause });
    throw error;
  }
}

/** arn:aws:states:<region>:<account>:mapRun:<state machine>/<Label or id>:<id>, as AWS names a Map Run. */
function mapRunArn(run: StateRun<MapState>): string {
  const id = randomUUID();
  const label = run.state.Label ? run.state.Label : id.slice(0, 8);
  return `${run.frame.env.stateMachine.Id.replace(':stateMachine:', ':mapRun:')}/${label}:${id}`;
}

/** ToleratedFailureCount(Path) and ToleratedFailurePercentage(Path), as far as the state gives them. */
export async function tolerated(
  run: StateRun<MapState>,
  effective: JsonValue,
): Promise<{ count?: number; percentage?: number }> {
  const count = await toleranceValue(
    run,
    effective,
    'ToleratedFailureCount',
    /^\s*[+-]?\d{1,18}\s*$/,
    'integer',
  );
  if (count !== undefined && count < 0) throw runtimeError('ToleratedFailureCount cannot be negative.');
  const percentage = await toleranceValue(
    run,
    effective,
    'ToleratedFailurePercentage',
    /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?\s*$/,
    'float',
  );
  if (percentage !== undefined && !(percentage >= 0 && percentage <= 100))
    throw runtimeError('ToleratedFailurePercentage must be between 0 and 100.');
  return { ...(count !== undefined ? { count } : {}), ...(percentage !== undefined ? { percentage } : {}) };
}

async function toleranceValue(
  run: StateRun<MapState>,
  effective: JsonValue,
  field: 'ToleratedFailureCount' | 'ToleratedFailurePercentage',
  pattern: RegExp,
  kind: 'integer' | 'float',
): Promise<number | undefined> {
  const { state } = run;
  const path = state[`${field}Path`];
  if (path === undefined) {
    const literal = state[field];
    if (typeof literal === 'string' && isJsonataTemplate(literal)) {
      // not recorded: worded as MaxConcurrency's evaluation error
      const value = await evaluateJsonata(literal, jsonataBindings(run), field);
      if (typeof value !== 'number' || value < 0 || (kind === 'integer' && !Number.isInteger(value)))
        throw queryEvaluationError(
          `The ${field} field must evaluate to a non-negative ${kind === 'integer' ? 'integer' : 'number'}, but evaluated to ${JSON.stringify(value)}`,
        );
      return value;
    }
    return typeof literal === 'number' ? literal : undefined;
  }
  let value = selectPath(path, jsonPathScope(run, effective), `${field}Path`);
  if (typeof value === 'string' && pattern.test(value)) value = Number(value);
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (kind === 'integer' && !Number.isInteger(value))
  ) {
    const shown = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    throw runtimeError(
      `The ${field}Path field refers to value "${shown}" which is not a valid ${kind}: ${path}`,
    );
  }
  return value;
}
