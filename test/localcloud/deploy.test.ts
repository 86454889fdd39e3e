/**
 * Deploying the REAL assembly (the dev-stage `OrderSaga` stack synthesized with `-c faults=on`) onto the
 * local cloud: every resource the saga uses exists with the template's configuration, the outputs resolve,
 * and what is not emulated is listed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeTimeToLiveCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OUTPUTS, TABLES } from '../../lib/contract';
import { ensureAssembly, type SharedCloud, sdkConfig, sharedCloud } from '../support/localcloud';

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}
const cloud: SharedCloud = sharedCloud();
const config = sdkConfig(cloud);
let resources: Record<string, TemplateResource>;

beforeAll(async () => {
  const assembly = await ensureAssembly();
  const manifest = JSON.parse(readFileSync(path.join(assembly, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  // Every stack of the assembly (the order saga's first, then the transfer's), keyed `<stack>/<logicalId>`.
  resources = {};
  for (const [id, stack] of Object.entries(manifest.artifacts)) {
    if (stack.type !== 'aws:cloudformation:stack') continue;
    const template = JSON.parse(
      readFileSync(path.join(assembly, stack.properties?.templateFile ?? `${id}.template.json`), 'utf8'),
    ) as { Resources: Record<string, TemplateResource> };
    for (const [logicalId, r] of Object.entries(template.Resources)) resources[`${id}/${logicalId}`] = r;
  }
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('deploy: the real assembly', () => {
  it('resolves every output of the contract, with ApiUrl on the local edge', () => {
    for (const name of OUTPUTS) expect(cloud.outputs[name], name).toBeTruthy();
    expect(cloud.outputs.ApiUrl).toMatch(
      new RegExp(`^${cloud.endpoint}/restapis/[a-z0-9]{10}/[^/]+/_user_request_/$`),
    );
    expect(cloud.outputs.DlqUrl).toMatch(new RegExp(`^${cloud.endpoint}/000000000000/`));
    expect(JSON.stringify(cloud.outputs)).not.toMatch(/Fn::|"Ref"|\$\{/);
  });

  it('creates every table with its keys and TTL', async () => {
    const dynamodb = new DynamoDBClient(config);
    const { TableNames = [] } = await dynamodb.send(new ListTablesCommand({}));
    const ttl = await dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: cloud.outputs.IdempotencyKeysTableName }),
    );
    dynamodb.destroy();

    for (const table of Object.keys(TABLES)) expect(TableNames).toContain(cloud.outputs[`${table}TableName`]);
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: TABLES.IdempotencyKeys.ttl,
      TimeToLiveStatus: 'ENABLED',
    });
  });

  it('creates the DLQ with the template attributes', async () => {
    const [, queue] = ofType('AWS::SQS::Queue')[0] ?? [];
    const sqs = new SQSClient(config);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: cloud.outputs.DlqUrl, AttributeNames: ['All'] }),
    );
    sqs.destroy();

    expect(Attributes?.VisibilityTimeout).toBe(String(queue?.Properties?.VisibilityTimeout ?? 30));
    expect(Attributes?.MessageRetentionPeriod).toBe(
      String(queue?.Properties?.MessageRetentionPeriod ?? 345600),
    );
  });

  it('creates every function with resolved environment variables', async () => {
    const lambda = new LambdaClient(config);
    const { Functions = [] } = await lambda.send(new ListFunctionsCommand({}));
    const api = Functions.find((f) => f.FunctionName?.includes('ApiFunction'));
    const apiConfig = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: api?.FunctionName }),
    );
    lambda.destroy();

    expect(Functions).toHaveLength(ofType('AWS::Lambda::Function').length);
    expect(api?.FunctionName).toMatch(/^OrderSaga-dev-ApiFunction[A-Z0-9]+-[A-Z0-9]{12}$/);
    expect(apiConfig.Environment?.Variables).toMatchObject({
      STATE_MACHINE_ARN: cloud.outputs.StateMachineArn,
      ORDERS_TABLE_NAME: cloud.outputs.OrdersTableName,
      STEPSAGA_FAULTS: 'on',
    });
  });

  it('creates the state machine with Task resources pointing at the deployed functions', async () => {
    const sfn = new SFNClient(config);
    const machine = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: cloud.outputs.StateMachineArn }),
    );
    sfn.destroy();
    const definition = JSON.parse(machine.definition ?? '{}') as {
      States: Record<string, { Type: string; Resource?: string }>;
    };
    const taskResources = Object.values(definition.States)
      .filter((s) => s.Type === 'Task')
      .map((s) => s.Resource ?? '');

    expect(taskResources.length).toBeGreaterThan(0);
    for (const resource of taskResources)
      expect(resource).toMatch(/^arn:aws:(lambda:us-east-1:000000000000:function:OrderSaga-|states:::)/);
  });

  it('serves the REST API: unsigned requests and unknown routes get 403 like AWS', async () => {
    const unsigned = await fetch(`${cloud.outputs.ApiUrl}orders`, { method: 'POST', body: '{}' });
    const unknown = await fetch(`${cloud.outputs.ApiUrl}no-such-route`);

    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });
    expect(unknown.status).toBe(403);
  });

  it('lists every resource type it does not emulate, and nothing it does', () => {
    const skipped = new Map(cloud.deployment.skipped.map((s) => [s.type, s.logicalIds.length]));
    const emulated = new Set(cloud.deployment.created.map((c) => c.type));

    for (const [id, resource] of Object.entries(resources)) {
      expect(emulated.has(resource.Type) || skipped.has(resource.Type), `${id} (${resource.Type})`).toBe(
        true,
      );
    }
    expect(skipped.get('AWS::IAM::Role')).toBe(ofType('AWS::IAM::Role').length);
    for (const type of emulated) expect(skipped.has(type)).toBe(false);
  });
});
