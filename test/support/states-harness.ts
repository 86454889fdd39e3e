/**
 * A bare Step Functions + Lambda endpoint for the runtime's tests: one Edge on a free port serving the
 * local Lambda and Step Functions services (no DynamoDB, no SQS, no assembly), an SDK client for it, and
 * the few calls every such test makes. Each test file starts its own and closes it in `afterAll`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateStateMachineCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { Edge } from '../../localcloud/edge';
import { LambdaService } from '../../localcloud/lambda/service';
import type { MockConfig } from '../../localcloud/stepfunctions/mock-config';
import { StepFunctionsService } from '../../localcloud/stepfunctions/service';
import { untilExecutionEnds } from './waiting';

export const ROLE = 'arn:aws:iam::000000000000:role/StatesRole';
export const fnArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** An execution run to its end. */
export interface Finished {
  executionArn: string;
  description: DescribeExecutionCommandOutput;
  events: HistoryEvent[];
  types: string[];
  /** The parsed output of a SUCCEEDED execution (untyped parsed JSON: each test asserts its shape). */
  output: ReturnType<typeof JSON.parse>;
}

/** What a client sees of an ended execution: its status, parsed output, error and cause. */
export interface Outcome {
  status: string;
  output?: unknown;
  error?: string;
  cause?: string;
}

/** Waits until the execution ends and returns its outcome. */
export async function outcomeOf(sfn: SFNClient, executionArn: string, timeoutMs = 30_000): Promise<Outcome> {
  const out = await untilExecutionEnds(sfn, executionArn, { timeoutMs });
  return {
    status: out.status ?? '',
    ...(out.output !== undefined ? { output: JSON.parse(out.output) } : {}),
    ...(out.error !== undefined ? { error: out.error } : {}),
    ...(out.cause !== undefined ? { cause: out.cause } : {}),
  };
}

export interface StatesHarness {
  edge: Edge;
  lambda: LambdaService;
  states: StepFunctionsService;
  sfn: SFNClient;
  /** A Node.js 22 function whose `index.js` is `source` (30 s timeout). */
  addFunction(name: string, source: string): Promise<void>;
  /** Creates a state machine (a fresh name unless one is given) and returns its ARN. */
  createMachine(definition: object, name?: string): Promise<string>;
  /** Creates a state machine and starts one execution of it; returns the execution ARN. */
  start(definition: object, input?: unknown): Promise<string>;
  waitForEnd(executionArn: string, timeoutMs?: number): Promise<DescribeExecutionCommandOutput>;
  history(executionArn: string): Promise<HistoryEvent[]>;
  /** `start`, `waitForEnd` and `history` in one. */
  execute(definition: object, input?: unknown, timeoutMs?: number): Promise<Finished>;
  close(): Promise<void>;
}

/** A Node.js 22 function on a local Lambda service whose `index.js` (written under `dir`) is `source`. */
export async function addNodeFunction(
  lambda: LambdaService,
  dir: string,
  name: string,
  source: string,
  timeoutSeconds = 30,
): Promise<void> {
  const codeDir = path.join(dir, name);
  mkdirSync(codeDir, { recursive: true });
  writeFileSync(path.join(codeDir, 'index.js'), source);
  await lambda.createFunction({
    name,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    codeDir,
    environment: {},
    timeoutSeconds,
    memoryMb: 128,
  });
}

export async function startStatesHarness(
  options: {
    prefix: string;
    retryScale?: number;
    functions?: Record<string, string>;
    mockConfig?: MockConfig;
    /** The Lambda pool's containers per function (default: the machine's). */
    maxContainersPerFunction?: number;
  } = { prefix: 'sfn' },
): Promise<StatesHarness> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), `${options.prefix}-`));
  const edge = new Edge({ port: 0 });
  const lambda = new LambdaService({
    dataDir: path.join(workDir, 'data'),
    endpoint: () => edge.endpoint,
    ...(options.maxContainersPerFunction !== undefined
      ? { maxContainersPerFunction: options.maxContainersPerFunction }
      : {}),
  });
  const states = new StepFunctionsService({
    lambda,
    endpoint: () => edge.endpoint,
    ...(options.retryScale !== undefined ? { retryScale: options.retryScale } : {}),
    ...(options.mockConfig ? { mockConfig: options.mockConfig } : {}),
  });
  edge.register(lambda);
  edge.register(states);
  await edge.listen();
  const sfn = new SFNClient({
    endpoint: edge.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  let machines = 0;

  const harness: StatesHarness = {
    edge,
    lambda,
    states,
    sfn,
    addFunction: (name, source) => addNodeFunction(lambda, path.join(workDir, 'functions'), name, source),
    async createMachine(definition, name) {
      machines += 1;
      const out = await sfn.send(
        new CreateStateMachineCommand({
          name: name ?? `${options.prefix}-${machines}`,
          definition: JSON.stringify(definition),
          roleArn: ROLE,
        }),
      );
      return out.stateMachineArn ?? '';
    },
    async start(definition, input = {}) {
      const stateMachineArn = await harness.createMachine(definition);
      const out = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
      );
      return out.executionArn ?? '';
    },
    waitForEnd(executionArn, timeoutMs = 30_000) {
      return untilExecutionEnds(sfn, executionArn, { timeoutMs });
    },
    async history(executionArn) {
      const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
      return out.events ?? [];
    },
    async execute(definition, input = {}, timeoutMs = 30_000) {
      const executionArn = await harness.start(definition, input);
      const description = await harness.waitForEnd(executionArn, timeoutMs);
      const events = await harness.history(executionArn);
      return {
        executionArn,
        description,
        events,
        types: events.map((event) => event.type ?? ''),
        output: description.output === undefined ? undefined : JSON.parse(description.output),
      };
    },
    async close() {
      sfn.destroy();
      await edge.close();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  for (const [name, source] of Object.entries(options.functions ?? {}))
    await harness.addFunction(name, source);
  return harness;
}
