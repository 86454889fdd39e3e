/**
 * The local cloud's AWS Step Functions: the JSON 1.0 API (`X-Amz-Target: AWSStepFunctions.<Op>`) over
 * stepsaga's own interpreter (`asl/`). Executions run asynchronously in this process; each keeps
 * its AWS-shaped history in memory.
 *
 * Name idempotency follows AWS for Standard workflows: StartExecution with the name of a RUNNING
 * execution and the same input returns that execution; a different input, or a closed execution, is
 * `ExecutionAlreadyExists`.
 */

import { Journal } from '../journal';
import type { LambdaService } from '../lambda/service';
import { awsJson, awsJsonError } from '../protocol';
import type { AwsRequest, AwsResponse, Service } from '../types';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../types';
import type { StateMachineDefinition } from './asl/definition';
import { Execution, type ExecutionParams, type ExecutionStatus } from './asl/execution';
import type { HistoryEvent } from './asl/history';
import { parseTestStateRequest, TestStateRefusal, testState } from './asl/test-state';
import { invalidDefinitionMessage, validateDefinition } from './asl/validate';
import { type IntegrationDeps, Integrations, type JsonValue } from './integrations';
import { type MockConfig, splitTestCaseArn, TestCaseError, testCaseMock } from './mock-config';
import { replay, restoredCheckpoint, type SavedState, snapshotRecords } from './persist';
import { TaskTokenError, TaskTokens } from './task-tokens';

/** A history event as GetExecutionHistory returns it. */
export type HistoryEventLike = HistoryEvent;

export interface StepFunctionsServiceOptions {
  lambda: LambdaService;
  /** The edge URL: SQS and DynamoDB integrations call the local cloud through it. */
  endpoint: () => string;
  /**
   * Multiplies Retry intervals (and MaxDelaySeconds); 0.01 makes retry-heavy tests fast. A Lambda throttle's
   * retry keeps real time (asl/retry.ts `retryScaleFor`). @default 1
   */
  retryScale?: number;
  /** Mocked service integrations (SFN Local's mock config): StartExecution with `<arn>#<TestCase>`. */
  mockConfig?: MockConfig;
  /**
   * Keep state machines, executions, histories and task tokens in this directory (`persist.ts`); call
   * `restore()` once the functions are deployed to bring back what the last run left.
   */
  persistDir?: string;
  /** IAM: executions' Tasks call as the state machine's role (see integrations.ts). */
  iam?: IntegrationDeps['iam'];
}

type WorkflowType = 'STANDARD' | 'EXPRESS';

interface StateMachineRecord {
  arn: string;
  name: string;
  definition: string;
  parsed: StateMachineDefinition;
  roleArn: string;
  type: WorkflowType;
  creationDate: Date;
  updateDate?: Date;
  executions: ExecutionRecord[];
  /** Loaded from `--persist`, not deployed again yet: the deployment may change its definition. */
  restored?: boolean;
}

interface ExecutionRecord {
  arn: string;
  name: string;
  stateMachine: StateMachineRecord;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  run: Execution;
  /** The clientToken of the last RedriveExecution. */
  redriveToken?: string | undefined;
  /** `<stateMachineArn>#<TestCase>`: the mock config's test case it runs. */
  testCase?: string;
}

/** Keeps an execution record's status and outcome in step with its run (again after each redrive). */
function settle(record: ExecutionRecord, journal: () => Journal | undefined): void {
  void record.run.done.then((outcome) => {
    record.status = outcome.status;
    record.stopDate = new Date();
    if (outcome.output !== undefined) record.output = outcome.output;
    if (outcome.error !== undefined) record.error = outcome.error;
    if (outcome.cause !== undefined) record.cause = outcome.cause;
    journal()?.append({ k: 'o', x: record.arn, ...outcome, stop: record.stopDate.toISOString() });
  });
}

/** DescribeExecution's redrive members (Standard executions). */
function redriveFields(e: ExecutionRecord): Record<string, unknown> {
  const reason = e.run.notRedrivableReason();
  return {
    redriveCount: e.run.redriveCount,
    redriveStatus: reason === undefined ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
    ...(reason !== undefined ? { redriveStatusReason: reason } : {}),
    ...(e.run.redriveDate ? { redriveDate: epoch(e.run.redriveDate) } : {}),
  };
}

function typeNotSupported(): StatesApiError {
  return new StatesApiError(
    'StateMachineTypeNotSupported',
    'This operation is not supported by this type of state machine',
  );
}

/** A `400` JSON error (`__type` + `message`) the way Step Functions answers. */
export class StatesApiError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = errorType;
  }
}

const NAME_CHARACTERS = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
/** AWS rules for state machine and execution names: 1-80 characters, no whitespace, brackets, wildcards, special or control characters. */
function validName(name: string): boolean {
  return (
    NAME_CHARACTERS.test(name) &&
    ![...name].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f))
  );
}
const MAX_INPUT_BYTES = 256 * 1024;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

type Params = Record<string, unknown>;
type Operation = (params: Params) => unknown | Promise<unknown>;

export class StepFunctionsService implements Service {
  readonly name = 'states' as const;
  private readonly machines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly listeners = new Set<(executionArn: string, event: HistoryEventLike) => void>();
  private readonly integrations: Integrations;
  /** The callback pattern's task tokens (`taskTokens.size`: how many this service still holds). */
  readonly taskTokens = new TaskTokens();
  private readonly retryScale: number;
  private readonly operations: Record<string, Operation>;
  /** The loaded mock config (undefined: none; `#TestCase` is then refused). */
  readonly mockConfig: MockConfig | undefined;
  /** `--persist`: where everything is recorded (undefined: in memory only, or closed). */
  private journal: Journal | undefined;
  /** `--persist`: what the last run left, until `restore()` brings it back. */
  private saved: SavedState | undefined;

  constructor(opts: StepFunctionsServiceOptions) {
    this.integrations = new Integrations({
      lambda: opts.lambda,
      endpoint: opts.endpoint,
      ...(opts.iam ? { iam: opts.iam } : {}),
    });
    this.mockConfig = opts.mockConfig;
    if (opts.persistDir) {
      const { journal, records } = Journal.open(opts.persistDir, 'states');
      this.journal = journal;
      this.saved = replay(records);
      // State machines come back at once (the deployment finds them); executions in restore().
      for (const m of this.saved.machines.values()) {
        let parsed: StateMachineDefinition;
        try {
          parsed = parseDefinition(m.definition, m.type);
        } catch {
          continue;
        }
        this.machines.set(m.arn, {
          arn: m.arn,
          name: m.name,
          definition: m.definition,
          parsed,
          roleArn: m.roleArn,
          type: m.type,
          creationDate: new Date(m.created),
          ...(m.updated ? { updateDate: new Date(m.updated) } : {}),
          executions: [],
          restored: true,
        });
      }
    }
    this.retryScale = opts.retryScale ?? 1;
    this.operations = {
      CreateStateMachine: (p) => this.apiCreateStateMachine(p),
      DescribeStateMachine: (p) =>
        this.describeStateMachine(this.machine(requiredString(p, 'stateMachineArn'))),
      ListStateMachines: (p) => this.apiListStateMachines(p),
      DeleteStateMachine: (p) => this.apiDeleteStateMachine(p),
      UpdateStateMachine: (p) => this.apiUpdateStateMachine(p),
      StartExecution: (p) => this.apiStartExecution(p),
      DescribeExecution: (p) =>
        this.describeExecution(this.execution(requiredString(p, 'executionArn'), 'standard')),
      ListExecutions: (p) => this.apiListExecutions(p),
      GetExecutionHistory: (p) => this.apiGetExecutionHistory(p),
      StopExecution: (p) => this.apiStopExecution(p),
      RedriveExecution: (p) => this.apiRedriveExecution(p),
      StartSyncExecution: (p) => this.apiStartSyncExecution(p),
      DescribeStateMachineForExecution: (p) =>
        this.describeStateMachine(this.execution(requiredString(p, 'executionArn')).stateMachine),
      SendTaskSuccess: (p) => this.apiSendTaskSuccess(p),
      SendTaskFailure: (p) => this.apiSendTaskFailure(p),
      SendTaskHeartbeat: (p) => this.apiSendTaskHeartbeat(p),
      TestState: (p) => this.apiTestState(p),
    };
  }

  /** Live history events of every execution (the console's feed). Returns the unsubscribe function. */
  onEvent(listener: (executionArn: string, event: HistoryEventLike) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async createStateMachine(input: {
    name: string;
    definition: string;
    roleArn?: string;
    type?: WorkflowType;
  }): Promise<{ stateMachineArn: string; creationDate: Date }> {
    const type = input.type ?? 'STANDARD';
    if (!validName(input.name)) throw new StatesApiError('InvalidName', `Invalid Name: '${input.name}'`);
    const parsed = parseDefinition(input.definition, type);
    const roleArn = input.roleArn ?? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/StatesExecutionRole`;
    const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${input.name}`;
    const existing = this.machines.get(arn);
    if (existing) {
      const same =
        existing.definition === input.definition && existing.roleArn === roleArn && existing.type === type;
      if (same || existing.restored) {
        if (!same) {
          // Deployed again with another definition since the last run (--persist): the deployment updates it.
          existing.definition = input.definition;
          existing.parsed = parsed;
          existing.roleArn = roleArn;
          existing.type = type;
          existing.updateDate = new Date();
          this.persistMachine(existing);
        }
        existing.restored = false;
        return { stateMachineArn: arn, creationDate: existing.creationDate };
      }
      throw new StatesApiError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const record: StateMachineRecord = {
      arn,
      name: input.name,
      definition: input.definition,
      parsed,
      roleArn,
      type,
      creationDate: new Date(),
      executions: [],
    };
    this.machines.set(arn, record);
    this.persistMachine(record);
    return { stateMachineArn: arn, creationDate: record.creationDate };
  }

  /** `--persist`: how many running executions `restore()` will take over. */
  get toTakeOver(): number {
    let running = 0;
    for (const x of this.saved?.executions.values() ?? []) if (!x.outcome) running++;
    return running;
  }

  /**
   * `--persist`: brings back the executions the last run left (call once the functions are deployed).
   * Closed ones come back as they ended (redrivable from where they stopped); running ones continue from
   * their last checkpoint, as a worker taking over would. The journal is first compacted into a snapshot.
   * Returns how many of each.
   */
  restore(): { running: number; closed: number } {
    const saved = this.saved;
    this.saved = undefined;
    const counts = { running: 0, closed: 0 };
    if (!saved || !this.journal) return counts;
    // The snapshot below is made of `saved` alone: an execution started before this would be left out of
    // it (lost at the next restart). The local cloud holds StartExecution until this has run.
    if (this.executions.size > 0)
      throw new Error(
        `restore() must run before any execution starts: ${this.executions.size} started already (${[...this.executions.keys()][0]})`,
      );
    saved.machines.clear();
    for (const m of this.machines.values())
      saved.machines.set(m.arn, {
        arn: m.arn,
        name: m.name,
        definition: m.definition,
        roleArn: m.roleArn,
        type: m.type,
        created: m.creationDate.toISOString(),
        ...(m.updateDate ? { updated: m.updateDate.toISOString() } : {}),
      });
    for (const [arn, x] of saved.executions)
      if (!this.machines.has(x.machineArn)) saved.executions.delete(arn);
    // Compact first: the executions that continue append to the new generation's journal at once.
    this.journal.compact(snapshotRecords(saved));
    for (const x of saved.executions.values()) {
      const machine = this.machines.get(x.machineArn);
      if (!machine) continue;
      let taskMock: ReturnType<typeof testCaseMock> | undefined;
      try {
        taskMock = x.testCase === undefined ? undefined : this.testCaseMock(machine, x.testCase);
      } catch {
        taskMock = undefined;
      }
      const checkpoint = restoredCheckpoint(x);
      const outcome =
        x.outcome ??
        (x.testCase !== undefined && !taskMock
          ? {
              status: 'ABORTED' as const,
              error: 'States.Aborted',
              cause: `The mock test case '${x.testCase}' is no longer loaded`,
              stop: new Date().toISOString(),
            }
          : undefined);
      const input = JSON.parse(x.input) as JsonValue;
      const record = this.newExecution(machine, x.name, x.input, input, new Date(x.start), {
        ...(taskMock ? { taskMock } : {}),
        ...(x.testCase !== undefined ? { testCase: x.testCase } : {}),
        restored: {
          events: x.events,
          ...(outcome ? { outcome } : {}),
          ...(checkpoint ? { checkpoint } : {}),
          redriveCount: x.redriveCount,
          ...(x.redriveDate ? { redriveDate: new Date(x.redriveDate) } : {}),
        },
      });
      if (x.redriveToken !== undefined) record.redriveToken = x.redriveToken;
      if (outcome) {
        record.status = outcome.status;
        record.stopDate = new Date(outcome.stop);
        if (outcome.output !== undefined) record.output = outcome.output;
        if (outcome.error !== undefined) record.error = outcome.error;
        if (outcome.cause !== undefined) record.cause = outcome.cause;
        counts.closed++;
      } else {
        settle(record, () => this.journal);
        counts.running++;
      }
    }
    return counts;
  }

  private persistMachine(m: StateMachineRecord): void {
    this.journal?.append({
      k: 'm',
      arn: m.arn,
      name: m.name,
      definition: m.definition,
      roleArn: m.roleArn,
      type: m.type,
      created: m.creationDate.toISOString(),
      ...(m.updateDate ? { updated: m.updateDate.toISOString() } : {}),
    });
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const target = req.target ?? '';
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    const handler = this.operations[operation];
    if (!handler) {
      return awsJsonError(
        400,
        'UnknownOperationException',
        `Operation ${operation || target || '(none)'} is not supported`,
      );
    }
    let params: unknown;
    try {
      params = JSON.parse(req.body.length > 0 ? req.body.toString('utf8') : '{}');
    } catch {
      return awsJsonError(400, 'SerializationException', 'Request body is not valid JSON');
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      return awsJsonError(400, 'SerializationException', 'Request body must be a JSON object');
    }
    try {
      return awsJson(await handler(params as Params));
    } catch (error) {
      if (error instanceof StatesApiError) return awsJsonError(error.status, error.errorType, error.message);
      const message = error instanceof Error ? error.message : String(error);
      return awsJsonError(500, 'InternalServerError', message);
    }
  }

  async close(): Promise<void> {
    // With --persist, what runs now continues at the next start: nothing of this shutdown is recorded.
    this.journal?.close();
    this.journal = undefined;
    for (const execution of this.executions.values())
      execution.run.stop('States.Aborted', 'The local cloud stopped');
    this.integrations.close();
  }

  // ---------------------------------------------------------------------------------------------------
  // operations
  // ---------------------------------------------------------------------------------------------------

  private async apiCreateStateMachine(p: Params) {
    const name = requiredString(p, 'name');
    const definition = requiredString(p, 'definition');
    const roleArn = requiredString(p, 'roleArn');
    const type = optionalString(p, 'type') ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') {
      throw validation(
        `Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`,
      );
    }
    const { stateMachineArn, creationDate } = await this.createStateMachine({
      name,
      definition,
      roleArn,
      type,
    });
    return { stateMachineArn, creationDate: epoch(creationDate) };
  }

  private describeStateMachine(m: StateMachineRecord) {
    return {
      stateMachineArn: m.arn,
      name: m.name,
      status: 'ACTIVE',
      definition: m.definition,
      roleArn: m.roleArn,
      type: m.type,
      creationDate: epoch(m.creationDate),
      ...(m.updateDate ? { updateDate: epoch(m.updateDate) } : {}),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  private apiListStateMachines(p: Params) {
    const all = [...this.machines.values()].map((m) => ({
      stateMachineArn: m.arn,
      name: m.name,
      type: m.type,
      creationDate: epoch(m.creationDate),
    }));
    return paginate(all, p, 'stateMachines');
  }

  private apiDeleteStateMachine(p: Params) {
    const arn = requiredString(p, 'stateMachineArn');
    checkArn(arn, 'stateMachine');
    this.machines.delete(arn);
    this.journal?.append({ k: 'md', arn });
    return {};
  }

  private apiUpdateStateMachine(p: Params) {
    const m = this.machine(requiredString(p, 'stateMachineArn'));
    const definition = optionalString(p, 'definition');
    const roleArn = optionalString(p, 'roleArn');
    if (definition === undefined && roleArn === undefined) {
      throw new StatesApiError(
        'MissingRequiredParameter',
        'Either the definition or the roleArn must be specified',
      );
    }
    if (definition !== undefined) {
      m.parsed = parseDefinition(definition, m.type);
      m.definition = definition;
    }
    if (roleArn !== undefined) m.roleArn = roleArn;
    m.updateDate = new Date();
    this.persistMachine(m);
    return { updateDate: epoch(m.updateDate) };
  }

  private async apiStartExecution(p: Params) {
    const record = this.startExecution(p);
    return { executionArn: record.arn, startDate: epoch(record.startDate) };
  }

  /**
   * StartSyncExecution (Express only): runs the execution to its end and answers with its outcome and
   * billing details, as AWS does (billed duration rounded up to 100 ms, 64 MB per 64 MB step).
   */
  private async apiStartSyncExecution(p: Params) {
    const machine = this.machine(splitTestCaseArn(requiredString(p, 'stateMachineArn')).stateMachineArn);
    if (machine.type !== 'EXPRESS') throw typeNotSupported();
    const record = this.startExecution(p);
    const outcome = await record.run.done;
    const stopDate = record.stopDate ?? new Date();
    const durationMs = stopDate.getTime() - record.startDate.getTime();
    return {
      executionArn: record.arn,
      stateMachineArn: machine.arn,
      name: record.name,
      startDate: epoch(record.startDate),
      stopDate: epoch(stopDate),
      status: outcome.status,
      input: record.input,
      inputDetails: { included: true },
      ...(outcome.output !== undefined ? { output: outcome.output, outputDetails: { included: true } } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
      billingDetails: {
        billedMemoryUsedInMB: 64,
        billedDurationInMilliseconds: Math.max(100, Math.ceil(durationMs / 100) * 100),
      },
    };
  }

  private startExecution(p: Params): ExecutionRecord {
    const { stateMachineArn, testCase } = splitTestCaseArn(requiredString(p, 'stateMachineArn'));
    const machine = this.machine(stateMachineArn);
    const taskMock = testCase === undefined ? undefined : this.testCaseMock(machine, testCase);
    const name = optionalString(p, 'name') ?? crypto.randomUUID();
    if (!validName(name)) throw new StatesApiError('InvalidName', `Invalid Name: '${name}'`);
    const inputText = optionalString(p, 'input') ?? '{}';
    const input = jsonMember(
      inputText,
      'input',
      'InvalidExecutionInput',
      'Invalid State Machine Execution Input',
    );
    const prefix = machine.type === 'EXPRESS' ? 'express' : 'execution';
    const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${prefix}:${machine.name}:${name}`;
    const existing = this.executions.get(arn);
    if (existing) {
      if (machine.type === 'STANDARD' && existing.status === 'RUNNING' && existing.input === inputText) {
        return existing;
      }
      throw new StatesApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const startDate = new Date();
    if (machine.type === 'STANDARD')
      this.journal?.append({
        k: 'x',
        arn,
        name,
        m: machine.arn,
        input: inputText,
        start: startDate.toISOString(),
        ...(testCase !== undefined ? { testCase } : {}),
      });
    const record = this.newExecution(machine, name, inputText, input, startDate, {
      ...(taskMock ? { taskMock } : {}),
      ...(testCase !== undefined ? { testCase } : {}),
    });
    settle(record, () => this.journal);
    return record;
  }

  /** An execution record and its run (a new one, or one `restore()` brings back). */
  private newExecution(
    machine: StateMachineRecord,
    name: string,
    inputText: string,
    input: JsonValue,
    startDate: Date,
    extra: Pick<ExecutionParams, 'taskMock' | 'restored'> & { testCase?: string },
  ): ExecutionRecord {
    const prefix = machine.type === 'EXPRESS' ? 'express' : 'execution';
    const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${prefix}:${machine.name}:${name}`;
    // Express executions are not kept (AWS keeps no history of them either).
    const persisted = this.journal !== undefined && machine.type === 'STANDARD';
    const run = new Execution({
      definition: machine.parsed,
      input,
      executionArn: arn,
      executionName: name,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      roleArn: machine.roleArn,
      startTime: startDate,
      retryScale: this.retryScale,
      // Its Tasks call as the state machine's role (IAM).
      integrations: this.integrations.as(machine.roleArn),
      taskTokens: this.taskTokens,
      ...(extra.taskMock ? { taskMock: extra.taskMock } : {}),
      ...(extra.restored ? { restored: extra.restored } : {}),
      ...(persisted
        ? {
            journal: {
              checkpoint: (c, t) =>
                this.journal?.append({ k: 'c', x: arn, s: c.state, i: c.input, v: c.variables, t }),
              taskToken: (token, at) => this.journal?.append({ k: 't', x: arn, token, at }),
            },
          }
        : {}),
      onEvent: (event) => {
        if (persisted) this.journal?.append({ k: 'e', x: arn, e: event });
        for (const listener of this.listeners) listener(arn, event);
      },
    });
    const record: ExecutionRecord = {
      arn,
      name,
      stateMachine: machine,
      input: inputText,
      status: 'RUNNING',
      startDate,
      run,
      ...(extra.testCase !== undefined ? { testCase: extra.testCase } : {}),
    };
    this.executions.set(arn, record);
    machine.executions.push(record);
    return record;
  }

  /**
   * `<stateMachineArn>#<TestCase>` (as on Step Functions Local and LocalStack): the Task mock of one
   * execution of that test case of the mock config. A test case that is not there is refused (InvalidName,
   * as LocalStack answers), before anything runs.
   */
  private testCaseMock(machine: StateMachineRecord, testCase: string) {
    if (!this.mockConfig)
      throw new StatesApiError(
        'InvalidName',
        `Invalid mock test case name '${testCase}' for state machine '${machine.name}': no mock config is loaded (start the local cloud with --mock-config FILE or SFN_MOCK_CONFIG=FILE)`,
      );
    try {
      return testCaseMock(this.mockConfig.resolve(machine.name, testCase, machine.parsed));
    } catch (error) {
      if (error instanceof TestCaseError) throw new StatesApiError('InvalidName', error.message);
      throw error;
    }
  }

  /**
   * RedriveExecution (Standard only): a FAILED, ABORTED or TIMED_OUT execution continues from the state
   * that did not succeed (see `Execution.redrive`). The same `clientToken` again answers the same redrive.
   */
  private apiRedriveExecution(p: Params) {
    const execution = this.execution(requiredString(p, 'executionArn'), 'standard');
    const clientToken = optionalString(p, 'clientToken');
    if (clientToken !== undefined && (clientToken.length < 1 || clientToken.length > 64))
      throw validation(
        `Value '${clientToken}' at 'clientToken' failed to satisfy constraint: Member must have length ${clientToken.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 64'}`,
      );
    if (clientToken !== undefined && clientToken === execution.redriveToken && execution.run.redriveDate)
      return { redriveDate: epoch(execution.run.redriveDate) };
    const reason = execution.run.notRedrivableReason();
    if (reason !== undefined) throw new StatesApiError('ExecutionNotRedrivable', reason);
    // Recorded before the run goes on: the redrive's first events follow it in the journal.
    this.journal?.append({
      k: 'r',
      x: execution.arn,
      count: execution.run.redriveCount + 1,
      date: new Date().toISOString(),
      ...(clientToken !== undefined ? { token: clientToken } : {}),
    });
    execution.run.redrive();
    execution.status = 'RUNNING';
    execution.redriveToken = clientToken;
    delete execution.stopDate;
    delete execution.output;
    delete execution.error;
    delete execution.cause;
    settle(execution, () => this.journal);
    return { redriveDate: epoch(execution.run.redriveDate ?? new Date()) };
  }

  private describeExecution(e: ExecutionRecord) {
    return {
      executionArn: e.arn,
      stateMachineArn: e.stateMachine.arn,
      name: e.name,
      status: e.status,
      startDate: epoch(e.startDate),
      ...(e.stopDate ? { stopDate: epoch(e.stopDate) } : {}),
      input: e.input,
      inputDetails: { included: true },
      ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
      ...redriveFields(e),
    };
  }

  private apiListExecutions(p: Params) {
    const machine = this.machine(requiredString(p, 'stateMachineArn'));
    if (machine.type === 'EXPRESS') throw typeNotSupported();
    // AWS: redriveFilter lists the child executions of a Map Run (mapRunArn); with a state machine ARN it
    // is a validation error (API reference, ListExecutions).
    if (p.redriveFilter !== undefined)
      throw validation(
        "Value at 'redriveFilter' failed to satisfy constraint: redriveFilter requires mapRunArn",
      );
    const statusFilter = optionalString(p, 'statusFilter');
    if (statusFilter !== undefined && !STATUSES.includes(statusFilter)) {
      throw validation(
        `Value '${statusFilter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${STATUSES.join(', ')}]`,
      );
    }
    const items = machine.executions
      .filter((e) => statusFilter === undefined || e.status === statusFilter)
      .reverse()
      .map((e) => ({
        executionArn: e.arn,
        stateMachineArn: machine.arn,
        name: e.name,
        status: e.status,
        startDate: epoch(e.startDate),
        ...(e.stopDate ? { stopDate: epoch(e.stopDate) } : {}),
        redriveCount: e.run.redriveCount,
        ...(e.run.redriveDate ? { redriveDate: epoch(e.run.redriveDate) } : {}),
      }));
    return paginate(items, p, 'executions');
  }

  private apiGetExecutionHistory(p: Params) {
    const execution = this.execution(requiredString(p, 'executionArn'), 'standard');
    const reverse = p.reverseOrder === true;
    const includeData = p.includeExecutionData !== false;
    const events = [...execution.run.history];
    if (reverse) events.reverse();
    // The token names the last event returned, as AWS's holds its place: events the execution appends
    // between two pages neither repeat nor skip one, newest first included.
    const { page, next } = pageOf(events, p, 100, 1000, (event) => event.id);
    return { events: page.map((event) => shapeEvent(event, includeData)), ...next };
  }

  private apiStopExecution(p: Params) {
    const execution = this.execution(requiredString(p, 'executionArn'), 'standard');
    const error = optionalString(p, 'error');
    const cause = optionalString(p, 'cause');
    if (execution.status === 'RUNNING') execution.run.stop(error, cause);
    return { stopDate: epoch(execution.stopDate ?? new Date()) };
  }

  // ---------------------------------------------------------------------------------------------------
  // callback pattern (`.waitForTaskToken` Tasks)
  // ---------------------------------------------------------------------------------------------------

  /** SendTaskSuccess: `output` (JSON text) becomes the result of the Task holding `taskToken`. */
  private apiSendTaskSuccess(p: Params) {
    const token = taskToken(p);
    const output = jsonMember(requiredString(p, 'output'), 'output', 'InvalidOutput', 'Invalid Output');
    return withTaskToken(() => this.taskTokens.succeed(token, output));
  }

  /** SendTaskFailure: the Task fails with `error` and `cause` (each optional), Retry/Catch as usual. */
  private apiSendTaskFailure(p: Params) {
    const token = taskToken(p);
    const error = optionalString(p, 'error');
    const cause = optionalString(p, 'cause');
    if (error !== undefined && error.length > 256) {
      throw validation(
        "Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256",
      );
    }
    if (cause !== undefined && cause.length > 32_768) {
      throw validation(
        "Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768",
      );
    }
    return withTaskToken(() => this.taskTokens.fail(token, error, cause));
  }

  /** SendTaskHeartbeat: restarts the Task's HeartbeatSeconds clock. */
  /**
   * TestState: one state of a definition, on the interpreter (`asl/test-state.ts`). As on AWS, the state's
   * integrations call as the request's `roleArn` (its grants decide; the caller needed `iam:PassRole`).
   */
  private async apiTestState(p: Params) {
    try {
      const request = parseTestStateRequest(p);
      return await testState(request, {
        integrations: request.roleArn ? this.integrations.as(request.roleArn) : this.integrations,
        taskTokens: this.taskTokens,
        region: LOCAL_REGION,
        account: LOCAL_ACCOUNT_ID,
      });
    } catch (error) {
      if (error instanceof TestStateRefusal) throw new StatesApiError(error.code, error.message);
      throw error;
    }
  }

  private apiSendTaskHeartbeat(p: Params) {
    const token = taskToken(p);
    return withTaskToken(() => this.taskTokens.heartbeat(token));
  }

  // ---------------------------------------------------------------------------------------------------
  // lookups
  // ---------------------------------------------------------------------------------------------------

  private machine(arn: string): StateMachineRecord {
    checkArn(arn, 'stateMachine');
    const machine = this.machines.get(arn);
    if (!machine)
      throw new StatesApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  /**
   * The execution an ARN names. `standard`: the operation is not for Express executions (DescribeExecution,
   * GetExecutionHistory, StopExecution, RedriveExecution: AWS refuses an `express` ARN as invalid there).
   */
  private execution(arn: string, only?: 'standard'): ExecutionRecord {
    checkArn(arn, 'execution');
    if (only === 'standard' && arn.split(':')[5] === 'express')
      throw new StatesApiError(
        'InvalidArn',
        "Invalid Arn: 'Resource type not valid in this context: express'",
      );
    const execution = this.executions.get(arn);
    if (!execution) throw new StatesApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }
}

// -----------------------------------------------------------------------------------------------------
// helpers
// -----------------------------------------------------------------------------------------------------

function parseDefinition(definition: string, type: WorkflowType = 'STANDARD'): StateMachineDefinition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch (error) {
    throw new StatesApiError(
      'InvalidDefinition',
      `Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ${error instanceof Error ? error.message : String(error)}'`,
    );
  }
  const problems = validateDefinition(parsed, { type });
  if (problems.length > 0) throw new StatesApiError('InvalidDefinition', invalidDefinitionMessage(problems));
  return parsed as StateMachineDefinition;
}

/**
 * A JSON-text API member (`input`, `output`): at most MAX_INPUT_BYTES, then parsed; text that is not JSON
 * is refused with `code` and the message `<label>: '<parser message>'`, as AWS words it.
 */
function jsonMember(text: string, member: string, code: string, label: string): JsonValue {
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
    throw validation(
      `Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_INPUT_BYTES}`,
    );
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new StatesApiError(code, `${label}: '${error instanceof Error ? error.message : String(error)}'`);
  }
}

function checkArn(arn: string, kind: 'stateMachine' | 'execution'): void {
  const pattern =
    kind === 'stateMachine'
      ? /^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/
      : /^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:\d{12}:(execution|express):[^:]+:[^:]+$/;
  if (!pattern.test(arn)) throw new StatesApiError('InvalidArn', `Invalid Arn: '${arn}'`);
}

/** The `taskToken` of a SendTask* request (1 to 1024 characters). */
function taskToken(p: Params): string {
  const token = requiredString(p, 'taskToken');
  if (token.length < 1 || token.length > 1024) {
    throw validation(
      `Value '${token}' at 'taskToken' failed to satisfy constraint: Member must have length ${token.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 1024'}`,
    );
  }
  return token;
}

/** Runs a SendTask* action; a refused token is the API error AWS answers (`InvalidToken`, `TaskTimedOut`...). */
function withTaskToken(action: () => void): Record<string, never> {
  try {
    action();
  } catch (error) {
    if (error instanceof TaskTokenError) throw new StatesApiError(error.errorType, error.message);
    throw error;
  }
  return {};
}

function validation(message: string): StatesApiError {
  return new StatesApiError('ValidationException', `1 validation error detected: ${message}`);
}

function requiredString(p: Params, key: string): string {
  const value = p[key];
  if (value === undefined || value === null) {
    throw validation(`Value null at '${key}' failed to satisfy constraint: Member must not be null`);
  }
  if (typeof value !== 'string')
    throw validation(`Value at '${key}' failed to satisfy constraint: Member must be a string`);
  return value;
}

function optionalString(p: Params, key: string): string | undefined {
  const value = p[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw validation(`Value at '${key}' failed to satisfy constraint: Member must be a string`);
  return value;
}

/** One page of `items` under `key`, and the token of the next. */
function paginate<T>(items: T[], p: Params, key: string, defaultSize = 100, maxSize = 1000) {
  const { page, next } = pageOf(items, p, defaultSize, maxSize);
  return { [key]: page, ...next };
}

/**
 * One page of `items` and the token of the next: the position of the next item, or with `idOf` the id of
 * the last item returned (the next page goes on after that item wherever it stands now).
 */
function pageOf<T>(
  items: T[],
  p: Params,
  defaultSize: number,
  maxSize: number,
  idOf?: (item: T) => number,
): { page: T[]; next: { nextToken?: string } } {
  const maxResults = p.maxResults;
  if (
    maxResults !== undefined &&
    (typeof maxResults !== 'number' || maxResults < 0 || maxResults > maxSize)
  ) {
    throw validation(
      `Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${maxSize}`,
    );
  }
  const size = typeof maxResults === 'number' && maxResults > 0 ? maxResults : defaultSize;
  const token = p.nextToken;
  let start = 0;
  if (token !== undefined && token !== null) {
    const decoded =
      typeof token === 'string' ? Number(Buffer.from(token, 'base64url').toString('utf8')) : Number.NaN;
    const index = idOf ? items.findIndex((item) => idOf(item) === decoded) + 1 : decoded;
    if (!Number.isInteger(decoded) || decoded < 0 || (idOf !== undefined && index === 0))
      throw new StatesApiError('InvalidToken', `Invalid Token: '${String(token)}'`);
    start = index;
  }
  const page = items.slice(start, start + size);
  const last = page.at(-1);
  const position = idOf && last !== undefined ? idOf(last) : start + size;
  const next =
    start + size < items.length ? { nextToken: Buffer.from(String(position)).toString('base64url') } : {};
  return { page, next };
}

function shapeEvent(event: HistoryEventLike, includeData: boolean): Record<string, unknown> {
  const shaped: Record<string, unknown> = { ...event, timestamp: epoch(event.timestamp) };
  if (!includeData) {
    for (const [key, value] of Object.entries(shaped)) {
      if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) continue;
      const {
        input: _input,
        output: _output,
        parameters: _parameters,
        ...rest
      } = value as Record<string, unknown>;
      shaped[key] = rest;
    }
  }
  return shaped;
}

function epoch(date: Date): number {
  return date.getTime() / 1000;
}
