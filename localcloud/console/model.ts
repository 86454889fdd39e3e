/**
 * The console's graph model, derived from the state machine's REAL definition (the ASL JSON returned by
 * `DescribeStateMachine`) and an execution's history (`GetExecutionHistory`). Nothing here knows the
 * saga's state names: the forward path is what `StartAt` reaches through `Next`/`Choices`/`Default`, the
 * compensation path is everything reachable only through a `Catch`. A change to the saga shows up here
 * without touching the console.
 *
 * Pure functions, no I/O: shared by the server (layout) and the browser bundle (status colouring).
 */

export type StateType = 'Task' | 'Choice' | 'Succeed' | 'Fail' | 'Pass' | 'Wait' | 'Parallel' | 'Map';
/** `forward`: reachable from `StartAt` without a Catch. `compensation`: reachable only via a Catch. */
export type PathKind = 'forward' | 'compensation';
export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface GraphNode {
  readonly id: string;
  readonly type: StateType;
  readonly path: PathKind;
  /** Task `Resource` (a Lambda ARN, `arn:aws:states:::sqs:sendMessage`...). */
  readonly resource?: string;
  readonly comment?: string;
}

export interface GraphEdge {
  /** `<from>-><to>#<n>`, unique. */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** Short text shown on the edge (`Catch`, a Choice rule, `Default`). */
  readonly label?: string;
  /** Catch: the `ErrorEquals` list; Choice: the full rule as text. */
  readonly detail?: string;
}

export interface SagaGraph {
  readonly startAt: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const STATE_TYPES: readonly StateType[] = [
  'Task',
  'Choice',
  'Succeed',
  'Fail',
  'Pass',
  'Wait',
  'Parallel',
  'Map',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Thrown for a definition the console cannot draw; the message names what is wrong. */
export class InvalidDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDefinitionError';
  }
}

/** A Choice rule as short text: `$.promoCode is present`, `$.total > 100`, `And(2 rules)`. */
export function describeChoiceRule(rule: Record<string, unknown>): string {
  for (const combinator of ['And', 'Or'] as const) {
    const inner = rule[combinator];
    if (Array.isArray(inner)) return `${combinator}(${inner.length} rules)`;
  }
  if (isRecord(rule.Not)) return `not (${describeChoiceRule(rule.Not)})`;
  const variable = str(rule.Variable) ?? '?';
  const operator = Object.keys(rule).find((key) => key !== 'Variable' && key !== 'Next');
  if (!operator) return variable;
  const value = rule[operator];
  if (operator === 'IsPresent') return `${variable} ${value === true ? 'is present' : 'is absent'}`;
  if (operator === 'IsNull') return `${variable} ${value === true ? 'is null' : 'is not null'}`;
  const symbols: Record<string, string> = {
    Equals: '==',
    LessThan: '<',
    GreaterThan: '>',
    LessThanEquals: '<=',
    GreaterThanEquals: '>=',
    Matches: 'matches',
  };
  const suffix = Object.keys(symbols).find((s) => operator.endsWith(s) || operator.endsWith(`${s}Path`));
  const symbol = suffix ? symbols[suffix] : operator;
  return `${variable} ${symbol} ${JSON.stringify(value)}`;
}

/**
 * Builds the graph of an ASL definition (a JSON string or the parsed object): one node per top-level
 * state, one edge per transition, and the forward/compensation partition.
 */
export function buildGraph(definition: unknown): SagaGraph {
  const asl: unknown = typeof definition === 'string' ? JSON.parse(definition) : definition;
  if (!isRecord(asl)) throw new InvalidDefinitionError('The definition is not a JSON object');
  const startAt = str(asl.StartAt);
  const states = asl.States;
  if (!startAt) throw new InvalidDefinitionError('The definition has no StartAt');
  if (!isRecord(states)) throw new InvalidDefinitionError('The definition has no States object');
  if (!(startAt in states)) throw new InvalidDefinitionError(`StartAt names a missing state: ${startAt}`);

  const edges: GraphEdge[] = [];
  const counts = new Map<string, number>();
  const addEdge = (edge: Omit<GraphEdge, 'id'>): void => {
    if (!(edge.to in states))
      throw new InvalidDefinitionError(`State ${edge.from} transitions to a missing state: ${edge.to}`);
    const base = `${edge.from}->${edge.to}`;
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    edges.push({ id: `${base}#${n}`, ...edge });
  };

  const raw: Array<{ id: string; type: StateType; resource?: string; comment?: string }> = [];
  for (const [id, state] of Object.entries(states)) {
    if (!isRecord(state)) throw new InvalidDefinitionError(`State ${id} is not an object`);
    const type = STATE_TYPES.find((t) => t === state.Type);
    if (!type) throw new InvalidDefinitionError(`State ${id} has an unknown Type: ${String(state.Type)}`);
    const resource = str(state.Resource);
    const comment = str(state.Comment);
    raw.push({ id, type, ...(resource ? { resource } : {}), ...(comment ? { comment } : {}) });
    const next = str(state.Next);
    if (next) addEdge({ from: id, to: next, kind: 'next' });
    if (Array.isArray(state.Choices)) {
      for (const rule of state.Choices) {
        if (!isRecord(rule) || !str(rule.Next))
          throw new InvalidDefinitionError(`Choice ${id} has a rule without Next`);
        const text = describeChoiceRule(rule);
        addEdge({ from: id, to: String(rule.Next), kind: 'choice', label: text, detail: text });
      }
    }
    const fallback = str(state.Default);
    if (fallback) addEdge({ from: id, to: fallback, kind: 'default', label: 'Default' });
    if (Array.isArray(state.Catch)) {
      for (const catcher of state.Catch) {
        if (!isRecord(catcher) || !str(catcher.Next))
          throw new InvalidDefinitionError(`State ${id} has a Catch without Next`);
        const errors = Array.isArray(catcher.ErrorEquals) ? catcher.ErrorEquals.map(String) : [];
        addEdge({
          from: id,
          to: String(catcher.Next),
          kind: 'catch',
          label: 'Catch',
          detail: errors.join(', '),
        });
      }
    }
  }

  const forward = new Set<string>([startAt]);
  const queue = [startAt];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const edge of edges)
      if (edge.from === id && edge.kind !== 'catch' && !forward.has(edge.to)) {
        forward.add(edge.to);
        queue.push(edge.to);
      }
  }
  const nodes: GraphNode[] = raw.map((node) => ({
    ...node,
    path: forward.has(node.id) ? 'forward' : 'compensation',
  }));
  return { startAt, nodes, edges };
}

// ---------------------------------------------------------------------------------------------------
// Execution history → per-state status
// ---------------------------------------------------------------------------------------------------

/**
 * One history event in the JSON the console API sends: the AWS event with its one `*EventDetails`
 * member flattened into `details`, and the state it belongs to (`step`, as the AWS console shows).
 */
export interface ConsoleEvent {
  readonly id: number;
  readonly previousEventId?: number;
  readonly type: string;
  /** ISO 8601. */
  readonly timestamp: string;
  /** Milliseconds since the execution started. */
  readonly elapsedMs: number;
  /** The state this event belongs to (none for execution-level events). */
  readonly step?: string;
  readonly details: Record<string, unknown>;
}

export type StateStatus = 'succeeded' | 'failed' | 'caught' | 'in-progress' | 'not-reached';

export interface StateRun {
  readonly name: string;
  status: StateStatus;
  /** Attempts beyond the first (a Retry rule re-scheduled the task). */
  retries: number;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
  enteredAt?: string;
  exitedAt?: string;
  /** Ids of the events of this state, in order. */
  readonly eventIds: number[];
}

export interface ExecutionStatusModel {
  readonly states: Record<string, StateRun>;
  /** Ids of the edges taken, in order of the transitions. */
  readonly takenEdges: string[];
}

/** The AWS SDK event (`HistoryEvent`) as JSON: `{ id, type, timestamp, previousEventId, <x>EventDetails }`. */
export type AwsHistoryEvent = Record<string, unknown>;

/** Flattens AWS history events and attributes each to its state (sequential state machines). */
export function toConsoleEvents(events: readonly AwsHistoryEvent[]): ConsoleEvent[] {
  let current: string | undefined;
  let startedAt: number | undefined;
  return events.map((event) => {
    const type = String(event.type);
    const stamp = event.timestamp instanceof Date ? event.timestamp : new Date(String(event.timestamp));
    startedAt ??= stamp.getTime();
    const detailsKey = Object.keys(event).find((key) => key.endsWith('EventDetails'));
    const details = detailsKey && isRecord(event[detailsKey]) ? event[detailsKey] : {};
    if (type.endsWith('StateEntered')) current = str(details.name);
    const step = current;
    if (type.endsWith('StateExited')) current = undefined;
    const previousEventId = typeof event.previousEventId === 'number' ? event.previousEventId : undefined;
    return {
      id: Number(event.id),
      ...(previousEventId !== undefined ? { previousEventId } : {}),
      type,
      timestamp: stamp.toISOString(),
      elapsedMs: stamp.getTime() - startedAt,
      ...(step ? { step } : {}),
      details,
    };
  });
}

const ATTEMPT_FAILURE = /(Failed|TimedOut)$/;

/**
 * Derives every state's status from the history: succeeded, failed (the execution ended there),
 * caught (failed and a Catch moved on), in progress, not reached; and the retry count (extra
 * `*Scheduled` events within one visit, as Step Functions records Retry attempts).
 */
export function deriveStatuses(graph: SagaGraph, events: readonly ConsoleEvent[]): ExecutionStatusModel {
  const states: Record<string, StateRun> = {};
  for (const node of graph.nodes)
    states[node.id] = { name: node.id, status: 'not-reached', retries: 0, eventIds: [] };
  const takenEdges: string[] = [];
  let current: StateRun | undefined;
  let previous: { name: string; failed: boolean } | undefined;
  let attempts = 0;
  let lastAttemptFailed = false;

  for (const event of events) {
    const { type, details } = event;
    if (type.endsWith('StateEntered')) {
      const name = str(details.name) ?? '';
      const run = states[name] ?? { name, status: 'not-reached', retries: 0, eventIds: [] };
      states[name] = run;
      if (previous) {
        const candidates = graph.edges.filter((e) => e.from === previous?.name && e.to === name);
        const edge = candidates.find((e) => (e.kind === 'catch') === previous?.failed) ?? candidates[0];
        if (edge) takenEdges.push(edge.id);
      }
      run.status = 'in-progress';
      run.input = str(details.input);
      run.enteredAt = event.timestamp;
      delete run.output;
      delete run.error;
      delete run.cause;
      run.eventIds.push(event.id);
      current = run;
      attempts = 0;
      lastAttemptFailed = false;
      continue;
    }
    if (type.startsWith('Execution')) {
      if (current && type !== 'ExecutionStarted') {
        if (type === 'ExecutionSucceeded') current.status = 'succeeded';
        else {
          current.status = 'failed';
          current.error ??= str(details.error);
          current.cause ??= str(details.cause);
        }
        current.eventIds.push(event.id);
      }
      continue;
    }
    if (!current) continue;
    current.eventIds.push(event.id);
    if (type.endsWith('StateExited')) {
      current.status = lastAttemptFailed ? 'caught' : 'succeeded';
      const output = str(details.output);
      if (output !== undefined) current.output = output;
      current.exitedAt = event.timestamp;
      previous = { name: current.name, failed: lastAttemptFailed };
      current = undefined;
    } else if (type.endsWith('Scheduled')) {
      attempts += 1;
      current.retries = Math.max(0, attempts - 1);
      lastAttemptFailed = false;
    } else if (type.endsWith('Succeeded')) {
      const output = str(details.output);
      if (output !== undefined) current.output = output;
      lastAttemptFailed = false;
    } else if (ATTEMPT_FAILURE.test(type)) {
      current.error = str(details.error);
      current.cause = str(details.cause);
      lastAttemptFailed = true;
    }
  }
  return { states, takenEdges };
}

/** The words shown on a state for a status (the page never relies on colour alone). */
export function statusLabel(run: Pick<StateRun, 'status' | 'retries'>): string {
  const base: Record<StateStatus, string> = {
    succeeded: '✓ Succeeded',
    failed: '✗ Failed',
    caught: '↪ Caught',
    'in-progress': '… In progress',
    'not-reached': '○ Not reached',
  };
  const retried = run.retries > 0 ? ` · ⟳ retried ${run.retries}×` : '';
  return `${base[run.status]}${retried}`;
}
