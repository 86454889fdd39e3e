/**
 * `--persist DIR` for Step Functions: state machines, executions (input, status, outcome, full history,
 * redrives), each running execution's last top-level checkpoint and the callback token its Task waits
 * on, all in one journal (`../journal.ts`, `states.*.jsonl`). One record a line:
 *
 * - `{k:'m', arn, name, definition, roleArn, type, created, updated?}` a state machine (created/updated),
 *   `{k:'md', arn}` deleted
 * - `{k:'x', arn, name, m, input, start, testCase?}` an execution started
 * - `{k:'e', x, e}` one history event of execution `x`
 * - `{k:'c', x, s, i, v, t}` execution `x` entered top-level state `s` with input `i`, variables `v` at `t`
 * - `{k:'t', x, token, at}` the Task of that state handed out `token` in an attempt started `at`
 * - `{k:'o', x, status, output?, error?, cause?, stop}` the execution ended
 * - `{k:'r', x, count, date, token?}` RedriveExecution
 *
 * Loading replays them into `SavedState`; the service then compacts the journal into a snapshot of that
 * state (the same records, one run's worth), so the journal only holds what happened since the start.
 */
import type { ExecutionOutcome, ExecutionStatus } from './asl/execution';
import type { HistoryEvent } from './asl/history';
import type { Checkpoint } from './asl/run';
import type { JsonObject, JsonValue } from './asl/types';

export interface SavedMachine {
  arn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: 'STANDARD' | 'EXPRESS';
  created: string;
  updated?: string;
}

export interface SavedExecution {
  arn: string;
  name: string;
  machineArn: string;
  input: string;
  start: string;
  testCase?: string;
  events: HistoryEvent[];
  checkpoint?: { state: string; input: JsonValue; variables: JsonObject; enteredTime: string };
  taskToken?: string;
  /** When the attempt that handed out `taskToken` started (its TimeoutSeconds run from it). */
  taskTokenAt?: string;
  outcome?: ExecutionOutcome & { stop: string };
  redriveCount: number;
  redriveDate?: string;
  redriveToken?: string;
}

export interface SavedState {
  machines: Map<string, SavedMachine>;
  executions: Map<string, SavedExecution>;
}

type Rec = Record<string, unknown>;

const str = (r: Rec, key: string): string => String(r[key] ?? '');
const optStr = (r: Rec, key: string): string | undefined =>
  typeof r[key] === 'string' ? (r[key] as string) : undefined;

/** Replays journal records (oldest first) into the state they describe; unknown records are skipped. */
export function replay(records: readonly unknown[]): SavedState {
  const machines = new Map<string, SavedMachine>();
  const executions = new Map<string, SavedExecution>();
  for (const raw of records) {
    if (typeof raw !== 'object' || raw === null) continue;
    const r = raw as Rec;
    const execution = typeof r.x === 'string' ? executions.get(r.x) : undefined;
    switch (r.k) {
      case 'm': {
        const updated = optStr(r, 'updated');
        machines.set(str(r, 'arn'), {
          arn: str(r, 'arn'),
          name: str(r, 'name'),
          definition: str(r, 'definition'),
          roleArn: str(r, 'roleArn'),
          type: r.type === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
          created: str(r, 'created'),
          ...(updated ? { updated } : {}),
        });
        break;
      }
      case 'md':
        machines.delete(str(r, 'arn'));
        break;
      case 'x': {
        const testCase = optStr(r, 'testCase');
        executions.set(str(r, 'arn'), {
          arn: str(r, 'arn'),
          name: str(r, 'name'),
          machineArn: str(r, 'm'),
          input: str(r, 'input'),
          start: str(r, 'start'),
          ...(testCase ? { testCase } : {}),
          events: [],
          redriveCount: 0,
        });
        break;
      }
      case 'e': {
        if (!execution || typeof r.e !== 'object' || r.e === null) break;
        const event = r.e as HistoryEvent & { timestamp: unknown };
        execution.events.push({ ...event, timestamp: new Date(String(event.timestamp)) });
        break;
      }
      case 'c':
        if (!execution) break;
        execution.checkpoint = {
          state: str(r, 's'),
          input: (r.i ?? null) as JsonValue,
          variables: (r.v ?? {}) as JsonObject,
          enteredTime: str(r, 't'),
        };
        delete execution.taskToken;
        delete execution.taskTokenAt;
        break;
      case 't': {
        if (!execution) break;
        execution.taskToken = str(r, 'token');
        const at = optStr(r, 'at');
        if (at !== undefined) execution.taskTokenAt = at;
        else delete execution.taskTokenAt;
        break;
      }
      case 'o': {
        if (!execution) break;
        const status = str(r, 'status') as Exclude<ExecutionStatus, 'RUNNING'>;
        const output = optStr(r, 'output');
        const error = optStr(r, 'error');
        const cause = optStr(r, 'cause');
        execution.outcome = {
          status,
          stop: str(r, 'stop'),
          ...(output !== undefined ? { output } : {}),
          ...(error !== undefined ? { error } : {}),
          ...(cause !== undefined ? { cause } : {}),
        };
        // A succeeded execution has nothing left to continue from.
        if (status === 'SUCCEEDED') delete execution.checkpoint;
        delete execution.taskToken;
        delete execution.taskTokenAt;
        break;
      }
      case 'r': {
        if (!execution) break;
        delete execution.outcome;
        execution.redriveCount = Number(r.count ?? execution.redriveCount + 1);
        execution.redriveDate = str(r, 'date');
        const token = optStr(r, 'token');
        if (token !== undefined) execution.redriveToken = token;
        else delete execution.redriveToken;
        break;
      }
    }
  }
  return { machines, executions };
}

/** The records that rebuild `state` (what a snapshot holds). */
export function* snapshotRecords(state: SavedState): Generator<Rec> {
  for (const m of state.machines.values()) yield { k: 'm', ...m };
  for (const x of state.executions.values()) {
    yield {
      k: 'x',
      arn: x.arn,
      name: x.name,
      m: x.machineArn,
      input: x.input,
      start: x.start,
      ...(x.testCase ? { testCase: x.testCase } : {}),
    };
    if (x.redriveCount > 0 && x.redriveDate)
      yield {
        k: 'r',
        x: x.arn,
        count: x.redriveCount,
        date: x.redriveDate,
        ...(x.redriveToken ? { token: x.redriveToken } : {}),
      };
    for (const e of x.events) yield { k: 'e', x: x.arn, e };
    if (x.checkpoint) {
      const { state: s, input: i, variables: v, enteredTime: t } = x.checkpoint;
      yield { k: 'c', x: x.arn, s, i, v, t };
    }
    if (x.taskToken)
      yield { k: 't', x: x.arn, token: x.taskToken, ...(x.taskTokenAt ? { at: x.taskTokenAt } : {}) };
    if (x.outcome) yield { k: 'o', x: x.arn, ...x.outcome };
  }
}

/** The checkpoint a restored execution continues from (a take-over), or keeps for a redrive (closed). */
export function restoredCheckpoint(x: SavedExecution): Checkpoint | undefined {
  if (!x.checkpoint) return undefined;
  const { state, input, variables, enteredTime } = x.checkpoint;
  const checkpoint: Checkpoint = { state, input, variables: { ...variables } };
  if (!x.outcome)
    checkpoint.takeOver = {
      enteredTime,
      ...(x.taskToken !== undefined
        ? { taskToken: { token: x.taskToken, since: x.taskTokenAt ?? enteredTime } }
        : {}),
    };
  return checkpoint;
}
