/**
 * IAM enforcement. The evaluator on its own (explicit Deny, NotAction, wildcards, conditions,
 * per-item authorization), then a local cloud deploying a test-local copy of the assembly with one grant
 * removed and one Lambda permission removed: the saga step that needed the grant fails with AWS's denial
 * text and the order ends as on a real deployment; API Gateway answers 500 `Internal server error` and the
 * decision log says why; every other call of the run is allowed.
 */

import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  TestStateCommand,
} from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../client/api';
import { stackName } from '../../lib/contract';
import type { LocalCloud } from '../../localcloud/cloud';
import type { DecisionRecord } from '../../localcloud/iam/enforcer';
import {
  denialMessage,
  evaluate,
  type PolicySource,
  type Principal,
  parsePolicyDocument,
} from '../../localcloud/iam/policy';
import { authorizationsOf } from '../../localcloud/iam/requests';
import type { AwsRequest } from '../../localcloud/types';
import { ensureAssembly, startTestCloud } from '../support/localcloud';
import { untilExecutionEnds } from '../support/waiting';

const run = promisify(execFile);
const ROLE = 'arn:aws:iam::000000000000:role/OrderSaga-ReserveStockRole-ABC';
const session: Principal = {
  arn: 'arn:aws:sts::000000000000:assumed-role/OrderSaga-ReserveStockRole-ABC/ReserveStock',
  roleArn: ROLE,
  kind: 'session',
  account: '000000000000',
};
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/Inventory';
const identity = (statements: unknown[]): PolicySource[] => [
  { kind: 'identity', name: 'Policy', statements: parsePolicyDocument({ Statement: statements }, 'Policy') },
];
const ctx = (action: string, resource: string, keys: Record<string, string> = {}) => ({
  principal: session,
  action,
  resource,
  keys: { 'aws:securetransport': 'true', ...keys },
});

describe('the policy evaluator', () => {
  it('allows what an identity policy grants, with wildcards, and nothing else', () => {
    const policies = identity([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Update*'], Resource: TABLE },
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${TABLE}/index/*` },
    ]);
    expect(evaluate(ctx('dynamodb:GetItem', TABLE), policies, []).decision).toBe('allow');
    expect(evaluate(ctx('DynamoDB:updateitem', TABLE), policies, []).decision).toBe('allow');
    expect(evaluate(ctx('dynamodb:Query', `${TABLE}/index/byCustomer`), policies, []).decision).toBe('allow');
    const denied = evaluate(ctx('dynamodb:PutItem', TABLE), policies, []);
    expect(denied.decision).toBe('implicitDeny');
    expect(denialMessage(ctx('dynamodb:PutItem', TABLE), denied)).toBe(
      `User: ${session.arn} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    // Resources are case-sensitive; the table's index is not the table.
    expect(evaluate(ctx('dynamodb:GetItem', TABLE.toLowerCase()), policies, []).decision).toBe(
      'implicitDeny',
    );
    expect(evaluate(ctx('dynamodb:GetItem', `${TABLE}/index/x`), policies, []).decision).toBe('implicitDeny');
  });

  it('lets an explicit Deny win over any Allow, and says so', () => {
    const policies = identity([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Sid: 'NoDeletes', Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE },
    ]);
    const decision = evaluate(ctx('dynamodb:DeleteItem', TABLE), policies, []);
    expect(decision).toMatchObject({ decision: 'explicitDeny', matched: { sid: 'NoDeletes' } });
    expect(denialMessage(ctx('dynamodb:DeleteItem', TABLE), decision)).toMatch(
      /with an explicit deny in an identity-based policy$/,
    );
    // The administrator is subject to a resource policy's Deny too.
    const queuePolicy: PolicySource[] = [
      {
        kind: 'resource',
        name: 'QueuePolicy',
        statements: parsePolicyDocument(
          {
            Statement: [
              {
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 'sqs:*',
                Resource: '*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          },
          'QueuePolicy',
        ),
      },
    ];
    const root: Principal = { arn: 'arn:aws:iam::000000000000:root', kind: 'root', account: '000000000000' };
    const over = (secure: string) => ({
      ...ctx('sqs:SendMessage', 'q'),
      principal: root,
      keys: { 'aws:securetransport': secure },
    });
    expect(evaluate(over('true'), [], queuePolicy, true).decision).toBe('allow');
    expect(evaluate(over('false'), [], queuePolicy, true).decision).toBe('explicitDeny');
  });

  it('honours NotAction, NotResource and conditions; an unknown operator grants nothing', () => {
    const policies = identity([
      { Effect: 'Allow', NotAction: ['dynamodb:Delete*', 'lambda:*'], NotResource: `${TABLE}/index/*` },
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: '*',
        Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': '60' } },
      },
    ]);
    expect(evaluate(ctx('dynamodb:PutItem', TABLE), policies, []).decision).toBe('allow');
    expect(evaluate(ctx('dynamodb:DeleteItem', TABLE), policies, []).decision).toBe('implicitDeny');
    expect(evaluate(ctx('dynamodb:Query', `${TABLE}/index/i`), policies, []).decision).toBe('implicitDeny');
    expect(
      evaluate(
        ctx('lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:000000000000:function:f'),
        policies,
        [],
      ),
    ).toEqual({
      decision: 'implicitDeny',
      unknownOperators: ['NumericLessThan'],
    });
  });

  it('holds a negated operator when its key is absent from the request, as AWS documents', () => {
    const queue = 'arn:aws:sqs:us-east-1:000000000000:q';
    const denyUnless = (operator: string, value: string) =>
      identity([
        { Effect: 'Allow', Action: '*', Resource: '*' },
        {
          Sid: 'Only',
          Effect: 'Deny',
          Action: 'sqs:*',
          Resource: '*',
          Condition: { [operator]: { 'aws:SourceVpce': value } },
        },
      ]);
    const send = (keys: Record<string, string> = {}) => ctx('sqs:SendMessage', queue, keys);
    for (const operator of ['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike']) {
      const policies = denyUnless(operator, 'vpce-1*');
      // No aws:SourceVpce in the request: "not vpce-1" holds, the Deny applies.
      expect(evaluate(send(), policies, []).decision, operator).toBe('explicitDeny');
      expect(evaluate(send({ 'aws:sourcevpce': 'vpce-2' }), policies, []).decision, operator).toBe(
        'explicitDeny',
      );
    }
    expect(
      evaluate(send({ 'aws:sourcevpce': 'vpce-1' }), denyUnless('StringNotEquals', 'vpce-1'), []),
    ).toMatchObject({ decision: 'allow' });
    expect(
      evaluate(send({ 'aws:sourcevpce': 'vpce-12' }), denyUnless('StringNotLike', 'vpce-1*'), []).decision,
    ).toBe('allow');
    // ...IfExists: an absent key passes the condition, for negated and plain operators alike.
    expect(evaluate(send(), denyUnless('StringNotEqualsIfExists', 'vpce-1'), []).decision).toBe(
      'explicitDeny',
    );
    expect(evaluate(send(), denyUnless('StringEqualsIfExists', 'vpce-1'), []).decision).toBe('explicitDeny');
    // A plain operator with the key absent does not hold; ForAnyValue needs a value even when negated.
    expect(evaluate(send(), denyUnless('StringEquals', 'vpce-1'), []).decision).toBe('allow');
    expect(evaluate(send(), denyUnless('ForAnyValue:StringNotEquals', 'vpce-1'), []).decision).toBe('allow');

    const arnKey = (operator: string) =>
      identity([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: '*',
          Condition: { [operator]: { 'aws:SourceArn': 'arn:aws:execute-api:us-east-1:000000000000:api/*' } },
        },
      ]);
    const invoke = (keys: Record<string, string> = {}) =>
      ctx('lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:000000000000:function:f', keys);
    for (const operator of ['ArnNotEquals', 'ArnNotLike']) {
      expect(evaluate(invoke(), arnKey(operator), []).decision, operator).toBe('allow');
      expect(
        evaluate(
          invoke({ 'aws:sourcearn': 'arn:aws:execute-api:us-east-1:000000000000:api/v1' }),
          arnKey(operator),
          [],
        ).decision,
        operator,
      ).toBe('implicitDeny');
    }
    expect(evaluate(invoke(), arnKey('ArnLike'), []).decision).toBe('implicitDeny');
  });

  it('fails closed on an operator it does not know: an Allow grants nothing, a Deny denies and names it', () => {
    const queue = 'arn:aws:sqs:us-east-1:000000000000:q';
    const policies = identity([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      {
        Sid: 'NotAfter2000',
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { DateGreaterThan: { 'aws:CurrentTime': '2000-01-01T00:00:00Z' } },
      },
    ]);
    expect(evaluate(ctx('sqs:SendMessage', queue), policies, [])).toEqual({
      decision: 'explicitDeny',
      matched: {
        policy: 'Policy',
        kind: 'identity',
        sid: 'NotAfter2000',
        index: 1,
        actionPattern: 'sqs:*',
        resourcePattern: '*',
      },
      unknownOperators: ['DateGreaterThan'],
    });
    // The Deny's other conditions still decide whether it applies.
    const scoped = identity([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      {
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        Condition: {
          DateGreaterThan: { 'aws:CurrentTime': '2000-01-01T00:00:00Z' },
          StringEquals: { 'aws:SourceVpce': 'vpce-1' },
        },
      },
    ]);
    expect(evaluate(ctx('sqs:SendMessage', queue), scoped, []).decision).toBe('allow');
    expect(evaluate(ctx('sqs:SendMessage', queue, { 'aws:sourcevpce': 'vpce-1' }), scoped, []).decision).toBe(
      'explicitDeny',
    );
    // An operator named like an Object.prototype member is unknown too, not a test that always holds.
    const prototypeNamed = identity([
      {
        Effect: 'Allow',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { constructor: { 'aws:SourceVpce': 'x' } },
      },
    ]);
    expect(evaluate(ctx('sqs:SendMessage', queue), prototypeNamed, [])).toMatchObject({
      decision: 'implicitDeny',
      unknownOperators: ['constructor'],
    });
    // An unknown set qualifier is an unknown operator too.
    const qualified = identity([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      {
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { 'ForSomeValues:StringEquals': { 'aws:TagKeys': 'x' } },
      },
    ]);
    expect(evaluate(ctx('sqs:SendMessage', queue), qualified, [])).toMatchObject({
      decision: 'explicitDeny',
      unknownOperators: ['ForSomeValues:StringEquals'],
    });
  });

  it('lets a Lambda permission admit a service only from its SourceArn', () => {
    const fn = 'arn:aws:lambda:us-east-1:000000000000:function:Api';
    const permission: PolicySource[] = [
      {
        kind: 'resource',
        name: 'Permission',
        statements: parsePolicyDocument(
          {
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'apigateway.amazonaws.com' },
                Action: 'lambda:InvokeFunction',
                Resource: fn,
                Condition: {
                  ArnLike: {
                    'aws:SourceArn': 'arn:aws:execute-api:us-east-1:000000000000:api/v1/GET/orders/*',
                  },
                },
              },
            ],
          },
          'Permission',
        ),
      },
    ];
    const apigw: Principal = { arn: 'apigateway.amazonaws.com', kind: 'service', account: '000000000000' };
    const call = (sourceArn: string) => ({
      principal: apigw,
      action: 'lambda:InvokeFunction',
      resource: fn,
      keys: { 'aws:sourcearn': sourceArn },
    });
    expect(
      evaluate(call('arn:aws:execute-api:us-east-1:000000000000:api/v1/GET/orders/o-1'), [], permission)
        .decision,
    ).toBe('allow');
    expect(
      evaluate(call('arn:aws:execute-api:us-east-1:000000000000:api/v1/POST/orders'), [], permission)
        .decision,
    ).toBe('implicitDeny');
  });
});

describe('what a request is authorized as', () => {
  const request = (target: string, body: unknown): AwsRequest => ({
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
    target,
    service: target.startsWith('DynamoDB')
      ? 'dynamodb'
      : target.startsWith('AWSStepFunctions')
        ? 'states'
        : 'sqs',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4566',
  });
  const arn = (t: string) => `arn:aws:dynamodb:us-east-1:000000000000:table/${t}`;

  it('asks for iam:PassRole on the role a TestState or CreateStateMachine hands to Step Functions', () => {
    const role = 'arn:aws:iam::000000000000:role/Tester';
    expect(
      authorizationsOf(request('AWSStepFunctions.TestState', { definition: '{}', roleArn: role })),
    ).toEqual([
      { action: 'states:TestState', resource: '*' },
      { action: 'iam:PassRole', resource: role },
    ]);
    expect(
      authorizationsOf(
        request('AWSStepFunctions.CreateStateMachine', { name: 'm', definition: '{}', roleArn: role }),
      ),
    ).toContainEqual({ action: 'iam:PassRole', resource: role });
    expect(authorizationsOf(request('AWSStepFunctions.TestState', { definition: '{}' }))).toEqual([
      { action: 'states:TestState', resource: '*' },
    ]);
  });

  it('authorizes TransactWriteItems per item and per table, GSIs as table/X/index/Y', () => {
    expect(
      authorizationsOf(
        request('DynamoDB_20120810.TransactWriteItems', {
          TransactItems: [
            { Update: { TableName: 'Inventory' } },
            { ConditionCheck: { TableName: 'Orders' } },
            { Put: { TableName: 'Keys' } },
            { Update: { TableName: 'Inventory' } },
            { Delete: { TableName: 'Keys' } },
          ],
        }),
      ),
    ).toEqual([
      { action: 'dynamodb:UpdateItem', resource: arn('Inventory') },
      { action: 'dynamodb:ConditionCheckItem', resource: arn('Orders') },
      { action: 'dynamodb:PutItem', resource: arn('Keys') },
      { action: 'dynamodb:DeleteItem', resource: arn('Keys') },
    ]);
    expect(
      authorizationsOf(request('DynamoDB_20120810.Query', { TableName: 'Orders', IndexName: 'byCustomer' })),
    ).toEqual([{ action: 'dynamodb:Query', resource: `${arn('Orders')}/index/byCustomer` }]);
    expect(
      authorizationsOf(request('DynamoDB_20120810.BatchGetItem', { RequestItems: { A: {}, B: {} } })),
    ).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: arn('A') },
      { action: 'dynamodb:BatchGetItem', resource: arn('B') },
    ]);
    expect(
      authorizationsOf(
        request('AmazonSQS.SendMessageBatch', { QueueUrl: 'http://127.0.0.1:4566/000000000000/dlq' }),
      ),
    ).toEqual([{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:dlq' }]);
  });
});

// ------------------------------------------------------------------------------------------------------
// A deployment with one grant and one Lambda permission taken away
// ------------------------------------------------------------------------------------------------------

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

let cloud: LocalCloud;
let dir: string;
let sfn: SFNClient;

beforeAll(async () => {
  const assembly = await ensureAssembly();
  dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-iam-'));
  cpSync(assembly, dir, { recursive: true });
  const file = path.join(dir, `${stackName('dev')}.template.json`);
  const template = JSON.parse(readFileSync(file, 'utf8')) as Template;
  // ReserveStock loses its grant on the Inventory table; POST /orders loses its Lambda permission.
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::IAM::Policy' && id.startsWith('ReserveStockFunctionRoleDefaultPolicy')) {
      const doc = resource.Properties.PolicyDocument as { Statement: Array<{ Sid?: string }> };
      doc.Statement = doc.Statement.filter((s) => s.Sid !== 'InventoryTable');
    }
    if (resource.Type === 'AWS::Lambda::Permission' && /ordersPOST/.test(id)) delete template.Resources[id];
  }
  writeFileSync(file, JSON.stringify(template));
  cloud = await startTestCloud({ assembly: dir, seed: true, retryScale: 0.01 });
  sfn = new SFNClient({
    endpoint: cloud.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // TestState's endpoint is `sync-<host>` on AWS; the local cloud has one host.
    disableHostPrefix: true,
  });
}, 240_000);

afterAll(async () => {
  sfn?.destroy();
  // This file denies on purpose: its last test asserts that close() rejects, naming the denials.
  await cloud?.close().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('enforcement on a deployment missing a grant', () => {
  it('is on by default, and the roles came from the template', () => {
    expect(cloud.iam.enabled).toBe(true);
    expect(cloud.iam.listRoles().map((r) => r.logicalId)).toContain('SagaStateMachineRoleE2963104');
    expect(cloud.iam.warnings).toEqual([]);
  });

  it('fails the saga step whose grant is gone with AWS denial text, and the order ends as on AWS', async () => {
    const api = createApiClient({
      apiUrl: cloud.apiUrl as string,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const seen: DecisionRecord[] = [];
    const stop = cloud.iam.onDecision((r) => seen.push(r));

    // POST /orders: no Lambda permission → 500 Internal server error, and the log says why.
    const post = await api.post('orders', { orderId: 'o-denied', customerId: 'customer-1', items: [] });
    expect(post.status).toBe(500);
    expect(post.body).toEqual({ message: 'Internal server error' });
    expect(seen).toContainEqual(
      expect.objectContaining({
        principal: 'apigateway.amazonaws.com',
        decision: 'implicitDeny',
        via: 'apigateway',
      }),
    );

    // The saga, started directly (as the administrator): ReserveStock's DynamoDB calls are denied.
    const stateMachineArn = cloud.outputs.StateMachineArn as string;
    expect(stateMachineArn).toMatch(/^arn:aws:states:/);
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'iam-denied',
        input: JSON.stringify({
          orderId: 'o-iam-1',
          customerId: 'customer-1',
          deliverySlot: '2026-12-01T10',
          items: [{ sku: 'SKU-1', quantity: 1 }],
        }),
      }),
    );
    const executionArn = started.executionArn as string;
    const { status } = await untilExecutionEnds(sfn, executionArn, { timeoutMs: 60_000 });
    stop();
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const text = JSON.stringify(history.events);
    expect(text).toMatch(
      /User: arn:aws:sts::000000000000:assumed-role\/OrderSaga-dev-ReserveStockFunctionRole[^/]*\/OrderSaga-dev-ReserveStockFunction[^ ]* is not authorized to perform: dynamodb:\w+ on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/OrderSaga-dev-Inventory[^ ]* because no identity-based policy allows the dynamodb:\w+ action/,
    );
    const denials = seen.filter((r) => r.decision !== 'allow');
    expect(denials.length).toBeGreaterThan(0);
    // Only the removed grant and the removed permission were refused.
    for (const denial of denials)
      expect(
        denial.via === 'apigateway' ||
          (/ReserveStockFunctionRole/.test(denial.role ?? '') &&
            /table\/OrderSaga-dev-Inventory/.test(denial.resource)),
      ).toBe(true);

    // As on AWS: the function's SDK call threw AccessDeniedException with AWS's message, the Lambda
    // failed with it, ReserveStock's Catch received it, the saga unwound and recorded the order CANCELLED
    // at ReserveStock with that error as the reason, and the execution ended FAILED.
    const denied = denials.find((d) => d.via === 'edge') as DecisionRecord;
    const message = `User: ${denied.principal} is not authorized to perform: ${denied.action} on resource: ${denied.resource} because no identity-based policy allows the ${denied.action} action`;
    expect(status).toBe('FAILED');
    const caught = history.events?.find(
      (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'ReserveStock',
    );
    const output = JSON.parse(caught?.stateExitedEventDetails?.output ?? '{}') as {
      failure?: { Error: string; Cause: string };
    };
    expect(output.failure?.Error).toBe('AccessDeniedException');
    expect(JSON.parse(output.failure?.Cause ?? '{}')).toMatchObject({
      errorType: 'AccessDeniedException',
      errorMessage: message,
    });
    const order = await api.get('orders/o-iam-1');
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({
      status: 'CANCELLED',
      failedStep: 'ReserveStock',
      reason: `AccessDeniedException: ${message}`,
    });
  }, 120_000);

  it("TestState runs a Task as the request's roleArn, as AWS does: that role's grants decide", async () => {
    const roleArn = (logicalId: string) =>
      cloud.iam.listRoles().find((r) => r.logicalId.startsWith(logicalId))?.arn as string;
    const functionArn = `arn:aws:lambda:us-east-1:000000000000:function:${cloud.outputs.RedriveFunctionName}`;
    const definition = JSON.stringify({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Arguments: { FunctionName: functionArn, Payload: { orderId: 'o-teststate' } },
      QueryLanguage: 'JSONata',
      End: true,
    });
    const test = (role: string) => sfn.send(new TestStateCommand({ definition, roleArn: role }));

    // The state machine's role may not invoke Redrive: the Task fails as in an execution.
    const denied = await test(roleArn('SagaStateMachineRole'));
    // The Api's role may (resume of a NEEDS_ATTENTION order): the function runs.
    const allowed = await test(roleArn('ApiFunctionRole'));

    expect(denied).toMatchObject({ status: 'FAILED', error: 'Lambda.AWSLambdaException' });
    expect(denied.cause).toMatch(
      /assumed-role\/OrderSaga-dev-SagaStateMachineRole[^/]*\/StepFunctions is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:[^ ]*RedriveFunction/,
    );
    expect(allowed.status, allowed.cause).toBe('SUCCEEDED');
  });
});

describe('denials on the wire, as each service answers them', () => {
  const role = () =>
    cloud.iam.listRoles().find((r) => r.logicalId.startsWith('ReserveStockFunctionRole'))?.arn as string;
  const asRole = () => {
    const credentials = cloud.iam.credentialsFor(role(), 'wire');
    if (!credentials) throw new Error('no session credentials for ReserveStock');
    return { endpoint: cloud.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  };
  const principal = () => `arn:aws:sts::000000000000:assumed-role/${role().split('/').pop()}/wire`;
  const notAuthorized = (action: string, resource: string) =>
    `User: ${principal()} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
  /** What a stock SDK client made of the error response. */
  const failure = async (call: Promise<unknown>) => {
    const error = (await call.then(
      () => undefined,
      (e: unknown) => e,
    )) as (Error & { $metadata?: { httpStatusCode?: number } }) | undefined;
    return { status: error?.$metadata?.httpStatusCode, name: error?.name, message: error?.message };
  };

  it('DynamoDB and Step Functions: 400 AccessDeniedException', async () => {
    const dynamodb = new DynamoDBClient(asRole());
    const states = new SFNClient(asRole());
    const table = cloud.outputs.InventoryTableName as string;
    const tableArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`;
    const stateMachineArn = cloud.outputs.StateMachineArn as string;
    try {
      expect(
        await failure(dynamodb.send(new GetItemCommand({ TableName: table, Key: { sku: { S: 'SKU-1' } } }))),
      ).toEqual({
        status: 400,
        name: 'AccessDeniedException',
        message: notAuthorized('dynamodb:GetItem', tableArn),
      });
      expect(await failure(states.send(new StartExecutionCommand({ stateMachineArn, input: '{}' })))).toEqual(
        {
          status: 400,
          name: 'AccessDeniedException',
          message: notAuthorized('states:StartExecution', stateMachineArn),
        },
      );
    } finally {
      dynamodb.destroy();
      states.destroy();
    }
  });

  it('Lambda: 403 AccessDeniedException; SQS (JSON): 403 with the query error AccessDenied', async () => {
    const lambda = new LambdaClient(asRole());
    const sqs = new SQSClient(asRole());
    const functionArn = `arn:aws:lambda:us-east-1:000000000000:function:${cloud.outputs.RedriveFunctionName}`;
    const queueUrl = cloud.outputs.DlqUrl as string;
    const queueArn = `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`;
    try {
      expect(
        await failure(lambda.send(new InvokeCommand({ FunctionName: functionArn, Payload: '{}' }))),
      ).toEqual({
        status: 403,
        name: 'AccessDeniedException',
        message: notAuthorized('lambda:InvokeFunction', functionArn),
      });
      const sent = await failure(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' })));
      expect(sent).toEqual({
        status: 403,
        name: 'AccessDenied',
        message: notAuthorized('sqs:SendMessage', queueArn),
      });
    } finally {
      lambda.destroy();
      sqs.destroy();
    }
  });

  it('SQS (query protocol, the AWS CLI): 403 AccessDenied', async () => {
    const credentials = asRole().credentials;
    const queueUrl = cloud.outputs.DlqUrl as string;
    const queueArn = `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`;
    const cli = await run(
      '/usr/bin/aws',
      [
        '--debug',
        '--endpoint-url',
        cloud.endpoint,
        'sqs',
        'send-message',
        '--queue-url',
        queueUrl,
        '--message-body',
        'x',
      ],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_MAX_ATTEMPTS: '1',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        },
        timeout: 60_000,
      },
    ).then(
      () => ({ stderr: '' }),
      (error: { stderr: string }) => error,
    );
    // The query protocol: the CLI posted Action=SendMessage as a form and got AWS's XML error back.
    expect(cli.stderr).toContain("'Action': 'SendMessage'");
    expect(cli.stderr).toContain('"POST / HTTP/1.1" 403');
    expect(cli.stderr).toContain('<Code>AccessDenied</Code>');
    expect(cli.stderr).toContain('An error occurred (AccessDenied) when calling the SendMessage operation');
    expect(cli.stderr).toContain(`: ${notAuthorized('sqs:SendMessage', queueArn)}\n`);
  });

  it("a Task's SQS send the state machine's role is not granted fails as in an execution", async () => {
    const queueUrl = cloud.outputs.DlqUrl as string;
    const queueArn = `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`;
    const roleArn = cloud.iam.listRoles().find((r) => r.logicalId.startsWith('ReserveStockFunctionRole'))
      ?.arn as string;
    const result = await sfn.send(
      new TestStateCommand({
        definition: JSON.stringify({
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage',
          Parameters: { QueueUrl: queueUrl, MessageBody: 'x' },
          End: true,
        }),
        roleArn,
      }),
    );
    // As Step Functions reports an SQS error of its optimized integration: the SDK's exception class.
    expect(result).toMatchObject({ status: 'FAILED', error: 'SQS.AmazonSQSException' });
    expect(result.cause).toContain(
      `User: arn:aws:sts::000000000000:assumed-role/${roleArn.split('/').pop()}/StepFunctions is not authorized to perform: sqs:SendMessage on resource: ${queueArn} because no identity-based policy allows the sqs:SendMessage action (Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied;`,
    );
  });
});

describe('a test cloud that saw denials no test asked for', () => {
  it('fails on close, naming each denial', async () => {
    // Every cloud of the suite (startTestCloud, the shared clouds' teardown) closes this way: a denial the
    // stack's roles caused anywhere in a run fails it. This file's denials are its own, on its own cloud.
    await expect(cloud.close()).rejects.toThrow(
      /^IAM denied \d+ calls on this test cloud.*apigateway\.amazonaws\.com: lambda:InvokeFunction on [^ ]*ApiFunction[^ ]* \(implicitDeny\).*ReserveStockFunction[^ ]*: dynamodb:BatchGetItem on [^ ]*table\/OrderSaga-dev-Inventory/s,
    );
  });
});
