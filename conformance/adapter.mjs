// @ts-check
// Conformance adapter: runs the AWS-recorded cases (../shared/conformance) against any Step Functions
// endpoint through the ordinary AWS SDK v3 clients only: the local cloud by default
// (STEPSAGA_ENDPOINT=http://127.0.0.1:4566), or AWS itself when STEPSAGA_ENDPOINT is unset and
// credentials/region come from the usual AWS environment (then set STEPSAGA_ROLE_ARN to a role Step
// Functions can assume, and STEPSAGA_LAMBDA_ROLE_ARN to a Lambda execution role).
//
//   node ../shared/conformance/run.mjs conformance/adapter.mjs
//
// Per case it creates (through the APIs):
//  * one Lambda function per entry of `lambdas`: a zip (fflate) of a small generated Node.js handler that
//    implements the declarative behaviour (returnsInput, returns, throws, sleepSeconds/then, throwsTimes);
//  * the SQS queues and DynamoDB tables named in `services` (fresh for the case);
//  * the state machine; then StartExecution, DescribeExecution until it is closed, GetExecutionHistory.
// Lambda ARNs and queue URLs in the cases name account 123456789012: the local cloud resolves functions
// and queues by name, as LocalStack does.
//
// Cases run concurrently; two cases that need the same function/queue/table name with a different
// behaviour or fresh state take turns (a per-name lock), so they never see each other's resources.
/** @import { AttributeDefinition, KeySchemaElement } from '@aws-sdk/client-dynamodb' */
/** @import { DescribeExecutionCommandOutput, GetExecutionHistoryCommandOutput } from '@aws-sdk/client-sfn' */
/** @import { AdapterResult, CaseContext, LambdaBehaviour, TableSpec } from './runner.mjs' */
import { createHash, randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  LambdaClient,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { zipSync } from 'fflate';

const endpoint = process.env.STEPSAGA_ENDPOINT;
const local = Boolean(endpoint);
const config = local
  ? {
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }
  : {};
const lambda = new LambdaClient(config);
const sfn = new SFNClient(config);
const sqs = new SQSClient(config);
const dynamodb = new DynamoDBClient(config);
const roleArn = process.env.STEPSAGA_ROLE_ARN ?? 'arn:aws:iam::000000000000:role/StepFunctionsRole';
const lambdaRoleArn = process.env.STEPSAGA_LAMBDA_ROLE_ARN ?? 'arn:aws:iam::000000000000:role/LambdaRole';
const POLL_MS = 25;

// ------------------------------------------------------------------ per-name locks
// name -> {key, holders, waiters}: holders with the same key share the resource, another key waits.
/**
 * @typedef {object} Lock
 * @property {string | null} key  what the resource is (null: fresh state, never shared)
 * @property {number} holders
 * @property {(() => void)[]} waiters
 * @property {Promise<void>} ready  settles when the first holder has created the resource
 * @property {{ resolve: () => void, reject: (error: unknown) => void }} settle
 */
/** @type {Map<string, Lock>} */
const locks = new Map();
/**
 * @param {string} name
 * @param {string | null} key
 * @returns {Promise<boolean>}
 */
async function acquire(name, key) {
  for (;;) {
    const lock = locks.get(name);
    if (!lock) {
      /** @type {Lock['settle'] | undefined} */
      let settle;
      /** @type {Promise<void>} */
      const ready = new Promise((resolve, reject) => {
        settle = { resolve, reject };
      });
      ready.catch(() => undefined);
      // The Promise executor ran synchronously: `settle` is set.
      locks.set(name, {
        key,
        holders: 1,
        waiters: [],
        ready,
        settle: /** @type {Lock['settle']} */ (settle),
      });
      return true; // first holder: must (re)create the resource, then settle `ready`
    }
    if (lock.key === key && key !== null) {
      lock.holders++;
      await lock.ready;
      return false; // shared: already created by the first holder
    }
    await /** @type {Promise<void>} */ (new Promise((resolve) => lock.waiters.push(resolve)));
  }
}
/** @param {string} name */
export function release(name) {
  const lock = locks.get(name);
  if (!lock) return;
  lock.holders--;
  if (lock.holders > 0) return;
  locks.delete(name);
  for (const wake of lock.waiters) wake();
}

// ------------------------------------------------------------------ Lambda behaviours
/** @param {LambdaBehaviour} spec */
function behaviourSource(spec) {
  return `'use strict';
const spec = ${JSON.stringify(spec)};
let invocations = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function run(spec, event) {
  if (spec.sleepSeconds !== undefined) {
    await sleep(spec.sleepSeconds * 1000);
    return run(spec.then ?? { returnsInput: true }, event);
  }
  if (spec.throwsTimes !== undefined) {
    invocations++;
    if (invocations <= spec.throwsTimes) fail(spec.throws ?? { name: 'Exception', message: 'failure' });
    return run(spec.then ?? { returnsInput: true }, event);
  }
  if (spec.throws) fail(spec.throws);
  if (spec.returnsInput) return event;
  if ('returns' in spec) return spec.returns;
  throw new Error('unknown behaviour ' + JSON.stringify(spec));
}
function fail({ name, message }) {
  const error = new Error(message);
  error.name = name;
  throw error;
}
exports.handler = async (event) => run(spec, event);
`;
}

/**
 * @param {LambdaBehaviour | undefined} spec
 * @returns {number}
 */
function maxSleepSeconds(spec) {
  if (!spec || typeof spec !== 'object') return 0;
  return (spec.sleepSeconds ?? 0) + maxSleepSeconds(spec.then);
}

/**
 * @param {string} name
 * @param {LambdaBehaviour} spec
 */
export async function ensureFunction(name, spec) {
  const source = behaviourSource(spec);
  const key = createHash('sha256').update(source).digest('hex');
  const first = await acquire(`lambda:${name}`, key);
  if (!first) return;
  const lock = /** @type {Lock} */ (locks.get(`lambda:${name}`)); // set by `acquire` for its first holder
  const created = (async () => {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => undefined);
    const zip = zipSync({ 'index.js': new TextEncoder().encode(source) });
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: lambdaRoleArn,
        Code: { ZipFile: zip },
        Timeout: Math.max(30, Math.ceil(maxSleepSeconds(spec)) + 30),
        MemorySize: 128,
      }),
    );
    if (!local) await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 120 }, { FunctionName: name });
    else await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  })();
  created.then(lock.settle.resolve, lock.settle.reject);
  await created;
}

// ------------------------------------------------------------------ SQS / DynamoDB fixtures
/** @param {string} url */
const queueName = (url) => url.split('/').filter(Boolean).pop();

/** @param {string} url */
async function freshQueue(url) {
  const name = queueName(url);
  await acquire(`sqs:${name}`, null);
  const existing = await sqs.send(new GetQueueUrlCommand({ QueueName: name })).catch(() => undefined);
  if (existing?.QueueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: existing.QueueUrl }));
  await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return `sqs:${name}`;
}

/**
 * @param {string} name
 * @param {TableSpec} spec
 */
async function freshTable(name, spec) {
  await acquire(`dynamodb:${name}`, null);
  await dynamodb.send(new DeleteTableCommand({ TableName: name })).catch((error) => {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  });
  /** @type {KeySchemaElement[]} */
  const keys = [{ AttributeName: spec.hashKey, KeyType: 'HASH' }];
  /** @type {AttributeDefinition[]} */
  const attributes = [{ AttributeName: spec.hashKey, AttributeType: spec.hashKeyType ?? 'S' }];
  if (spec.rangeKey) {
    keys.push({ AttributeName: spec.rangeKey, KeyType: 'RANGE' });
    attributes.push({ AttributeName: spec.rangeKey, AttributeType: spec.rangeKeyType ?? 'S' });
  }
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: keys,
      AttributeDefinitions: attributes,
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60, minDelay: 1 }, { TableName: name });
  return `dynamodb:${name}`;
}

// ------------------------------------------------------------------ run one case
/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The adapter contract of `runner.mjs`: runs one case, resolves to its outcome and history event types.
 * @param {unknown} definition
 * @param {unknown} input
 * @param {Record<string, LambdaBehaviour> | undefined} lambdas
 * @param {CaseContext} [ctx]
 * @returns {Promise<AdapterResult>}
 */
export async function run(definition, input, lambdas, ctx = {}) {
  /** @type {string[]} */
  const held = [];
  const machineName = `conformance-${String(ctx.id ?? 'case')
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 58)}-${randomUUID().slice(0, 8)}`; // names: at most 80 characters
  /** @type {string | undefined} */
  let stateMachineArn;
  try {
    for (const [name, spec] of Object.entries(lambdas ?? {})) {
      await ensureFunction(name, spec);
      held.push(`lambda:${name}`);
    }
    for (const url of ctx.services?.sqs?.queues ?? []) held.push(await freshQueue(url));
    for (const [name, spec] of Object.entries(ctx.services?.dynamodb?.tables ?? {})) {
      held.push(await freshTable(name, spec));
    }
    ({ stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: machineName, definition: JSON.stringify(definition), roleArn }),
    ));
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: randomUUID(), input: JSON.stringify(input ?? {}) }),
    );
    /** @type {DescribeExecutionCommandOutput} */
    let execution;
    for (;;) {
      execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== 'RUNNING') break;
      await sleep(POLL_MS);
    }
    /** @type {string[]} */
    const events = [];
    /** @type {string | undefined} */
    let nextToken;
    do {
      /** @type {GetExecutionHistoryCommandOutput} */
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
      );
      // The API always sends an event's type; the SDK's shape marks every member optional.
      for (const event of page.events ?? []) events.push(/** @type {string} */ (event.type));
      nextToken = page.nextToken;
    } while (nextToken);
    /** @type {AdapterResult} */
    const result = { status: execution.status, events };
    if (execution.status === 'SUCCEEDED') result.output = JSON.parse(execution.output ?? 'null');
    if (execution.error !== undefined) result.error = execution.error;
    if (execution.cause !== undefined) result.cause = execution.cause;
    return result;
  } finally {
    if (stateMachineArn)
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn })).catch(() => undefined);
    for (const name of held) release(name);
  }
}
