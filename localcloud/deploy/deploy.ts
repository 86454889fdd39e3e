/**
 * Deploys a cloud assembly (`cdk.out`) onto the local cloud, the way CloudFormation would: resources in
 * dependency order (independent ones in parallel), intrinsics resolved against what was created,
 * physical names generated like CloudFormation's (`<StackName>-<LogicalId>-<SUFFIX>`, deterministic here so
 * a `--persist`ed database keeps matching its tables), then `Outputs` resolved.
 *
 * Emulated: DynamoDB tables, SQS queues, Lambda functions, Step Functions state machines, API Gateway REST
 * APIs (resources, methods, deployments, stages). Everything else (IAM, Logs, CloudWatch, KMS, custom
 * resources, ...) is accepted without effect and listed in the report: never silently.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { ApiMethod, RestApiModel } from '../apigateway/model';
import type { ApiGatewayService } from '../apigateway/service';
import { IAM_TYPES, type IamResource } from '../iam/enforcer';
import type { LambdaService } from '../lambda/service';
import type { SqsService } from '../sqs/service';
import type { StepFunctionsService } from '../stepfunctions/service';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../types';
import { readAssembly, type StackArtifact, type TemplateResource } from './assembly';
import {
  type Json,
  type PhysicalResource,
  Resolver,
  type ResolverContext,
  TemplateError,
} from './intrinsics';

export interface DeployReport {
  stackName: string;
  /** Resolved stack outputs (API URLs rewritten to the local edge). */
  outputs: Record<string, string>;
  /** Emulated resources, with the milliseconds each took to create. */
  created: Array<{ logicalId: string; type: string; physicalId: string; ms: number }>;
  /** Resource types accepted without effect, with their logical ids. */
  skipped: Array<{ type: string; logicalIds: string[] }>;
  /** REST APIs served, with their local invoke URLs per stage. */
  apis: Array<{ id: string; name: string; urls: string[] }>;
  durationMs: number;
}

export interface DeployOptions {
  assemblyDir: string;
  /** The edge URL: tables are created through it with the AWS SDK, like any client (queues in-process). */
  endpoint: string;
  lambda: Pick<LambdaService, 'createFunction' | 'functionArn'>;
  states: Pick<StepFunctionsService, 'createStateMachine'>;
  sqs: Pick<SqsService, 'queueUrl' | 'createQueue'>;
  apigateway: Pick<ApiGatewayService, 'addRestApi'>;
  /** Receives the stack's roles, policies and resource policies, resolved (IAM enforcement). */
  iam?: { loadStack(resources: IamResource[]): void };
}

const EMULATED = new Set([
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::Lambda::Function',
  'AWS::StepFunctions::StateMachine',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Stage',
]);

/** Deploys every stack of the assembly; outputs of all stacks are merged (later stacks win). */
export async function deployAssembly(options: DeployOptions): Promise<DeployReport> {
  const started = performance.now();
  const stacks = readAssembly(options.assemblyDir);
  const clients = {
    dynamodb: new DynamoDBClient(sdkConfig(options.endpoint)),
  };
  try {
    const reports: DeployReport[] = [];
    for (const stack of stacks) reports.push(await deployStack(stack, options, clients));
    const merged: DeployReport = {
      stackName: stacks.map((s) => s.stackName).join(','),
      outputs: Object.assign({}, ...reports.map((r) => r.outputs)),
      created: reports.flatMap((r) => r.created),
      skipped: mergeSkipped(reports.flatMap((r) => r.skipped)),
      apis: reports.flatMap((r) => r.apis),
      durationMs: performance.now() - started,
    };
    return merged;
  } finally {
    clients.dynamodb.destroy();
  }
}

function sdkConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'localcloud', secretAccessKey: 'localcloud' },
  };
}

function mergeSkipped(list: Array<{ type: string; logicalIds: string[] }>) {
  const byType = new Map<string, string[]>();
  for (const { type, logicalIds } of list) byType.set(type, [...(byType.get(type) ?? []), ...logicalIds]);
  return [...byType]
    .map(([type, logicalIds]) => ({ type, logicalIds }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

/** CloudFormation-style generated name, deterministic: `<stack>-<logicalId>-<12-char suffix>`. */
export function physicalName(
  stackName: string,
  logicalId: string,
  maxLength: number,
  withStack = true,
): string {
  const digest = createHash('sha256').update(`${stackName}/${logicalId}`).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const suffix = [...digest.subarray(0, 12)].map((b) => alphabet[b % alphabet.length]).join('');
  const room = maxLength - suffix.length - 1;
  let prefix = withStack ? `${stackName}-${logicalId}` : logicalId;
  if (prefix.length > room) prefix = prefix.slice(0, room);
  return `${prefix}-${suffix}`;
}

function shortId(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...digest.subarray(0, length)].map((b) => alphabet[b % alphabet.length]).join('');
}

interface Clients {
  dynamodb: DynamoDBClient;
}

interface StackState {
  stack: StackArtifact;
  options: DeployOptions;
  clients: Clients;
  resolver: Resolver;
  resources: Map<string, PhysicalResource>;
  apis: Map<string, RestApiModel>;
}

async function deployStack(
  stack: StackArtifact,
  options: DeployOptions,
  clients: Clients,
): Promise<DeployReport> {
  const started = performance.now();
  const { template, stackName } = stack;
  const parameters: Record<string, Json> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {}))
    parameters[name] = parameter.Default ?? '';
  const resources = new Map<string, PhysicalResource>();
  const ctx: ResolverContext = {
    stackName,
    parameters,
    conditions: template.Conditions ?? {},
    mappings: template.Mappings ?? {},
    resources,
  };
  const resolver = new Resolver(ctx);
  const state: StackState = { stack, options, clients, resolver, resources, apis: new Map() };

  const all = Object.entries(template.Resources ?? {}).filter(
    ([, r]) => r.Condition === undefined || resolver.condition(r.Condition),
  );
  const ids = new Set(all.map(([id]) => id));
  const dependencies = new Map<string, Set<string>>();
  for (const [id, resource] of all) {
    const deps = Resolver.references((resource.Properties ?? {}) as Json);
    const dependsOn = resource.DependsOn;
    for (const d of Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []) deps.add(d);
    for (const dep of deps)
      if (!ids.has(dep) && !(dep in parameters))
        throw new TemplateError(`${stackName}/${id} refers to ${dep}, which the template does not declare`);
    dependencies.set(id, new Set([...deps].filter((d) => ids.has(d))));
  }

  // Names and ARNs CloudFormation would only know after creation are deterministic here: record them up
  // front, so a function waits for nothing but its code, and tables, queues, functions and state machines
  // are all created at once (the tables while the DynamoDB Local JVM is still booting).
  const created: DeployReport['created'] = [];
  const skipped: DeployReport['skipped'] = [];
  const pending = new Map<string, TemplateResource>();
  for (const [id, resource] of all) {
    if (!EMULATED.has(resource.Type)) {
      resources.set(id, placeholder(stackName, id, resource.Type));
      skipped.push({ type: resource.Type, logicalIds: [id] });
      continue;
    }
    const known = knownInAdvance(state, id, resource);
    if (known) resources.set(id, known);
    pending.set(id, resource);
  }
  while (pending.size > 0) {
    const wave = [...pending].filter(([id]) =>
      [...(dependencies.get(id) ?? [])].every((d) => resources.has(d)),
    );
    if (wave.length === 0)
      throw new TemplateError(
        `Circular dependency between ${[...pending.keys()].join(', ')} in ${stackName}`,
      );
    await Promise.all(
      wave.map(async ([id, resource]) => {
        pending.delete(id);
        const resourceStarted = performance.now();
        const physical = await createResource(state, id, resource);
        const ms = Math.round(performance.now() - resourceStarted);
        const expected = resources.get(id);
        if (expected && expected.ref !== physical.ref)
          throw new TemplateError(
            `${stackName}/${id}: created as ${physical.ref}, announced as ${expected.ref}`,
          );
        resources.set(id, physical);
        created.push({ logicalId: id, type: resource.Type, physicalId: physical.ref, ms });
      }),
    );
  }

  if (options.iam) options.iam.loadStack(iamResources(state, all));
  for (const api of state.apis.values()) options.apigateway.addRestApi(api);
  const apiUrls = [...state.apis.values()].map((api) => ({
    id: api.id,
    name: api.name,
    urls: api.stages.map((s) => `${options.endpoint}/restapis/${api.id}/${s.name}/_user_request_/`),
  }));

  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !resolver.condition(output.Condition)) continue;
    const value = resolver.resolve(output.Value);
    outputs[name] = localApiUrl(
      typeof value === 'string' ? value : JSON.stringify(value),
      options.endpoint,
      state.apis,
    );
  }
  return {
    stackName,
    outputs,
    created,
    skipped: mergeSkipped(skipped),
    apis: apiUrls,
    durationMs: performance.now() - started,
  };
}

/** The template's IAM resources with their properties resolved against what the deployment created. */
function iamResources(state: StackState, all: Array<[string, TemplateResource]>): IamResource[] {
  return all
    .filter(([, r]) => IAM_TYPES.has(r.Type))
    .map(([id, r]) => {
      const physical = state.resources.get(id);
      const arnAttribute = physical?.attributes.Arn;
      return {
        stackName: state.stack.stackName,
        logicalId: id,
        type: r.Type,
        ref: physical?.ref ?? id,
        ...(typeof arnAttribute === 'string' ? { arn: arnAttribute } : {}),
        properties: obj(state.resolver.resolve((r.Properties ?? {}) as Json)),
      };
    });
}

/** `https://<id>.execute-api.<region>.amazonaws.com/<stage>/<path>` → the edge's `/restapis/...` URL. */
function localApiUrl(value: string, endpoint: string, apis: Map<string, RestApiModel>): string {
  const match = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)\/?(.*)$/.exec(
    value,
  );
  if (!match || ![...apis.values()].some((a) => a.id === match[1])) return value;
  return `${endpoint}/restapis/${match[1]}/${match[2]}/_user_request_/${match[3] ?? ''}`;
}

function str(value: Json | undefined, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

function obj(value: Json | undefined): Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}

const arn = (service: string, resource: string, region: string = LOCAL_REGION) =>
  `arn:aws:${service}:${region}:${LOCAL_ACCOUNT_ID}:${resource}`;

async function createResource(
  state: StackState,
  id: string,
  resource: TemplateResource,
): Promise<PhysicalResource> {
  const props = obj(state.resolver.resolve((resource.Properties ?? {}) as Json));
  const where = `${state.stack.stackName}/${id} (${resource.Type})`;
  const name = (key: string, max: number, withStack = true) =>
    typeof props[key] === 'string'
      ? (props[key] as string)
      : physicalName(state.stack.stackName, id, max, withStack);
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return createTable(state, name('TableName', 255), props);
    case 'AWS::SQS::Queue': {
      const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
      const queueName =
        typeof props.QueueName === 'string'
          ? props.QueueName
          : `${physicalName(state.stack.stackName, id, 75)}${fifo ? '.fifo' : ''}`;
      return createQueue(state, queueName, props);
    }
    case 'AWS::Lambda::Function':
      return createFunction(state, resource, name('FunctionName', 64), props, where);
    case 'AWS::StepFunctions::StateMachine':
      return createStateMachine(state, name('StateMachineName', 80, false), props, where);
    case 'AWS::ApiGateway::RestApi': {
      if (props.Body !== undefined || props.BodyS3Location !== undefined)
        throw new TemplateError(`${where}: OpenAPI bodies are not supported by the local cloud`);
      const apiId = shortId(`${state.stack.stackName}/${id}`, 10);
      const rootResourceId = shortId(`${apiId}/root`, 10);
      state.apis.set(id, {
        id: apiId,
        name: typeof props.Name === 'string' ? props.Name : id,
        rootResourceId,
        resources: [{ id: rootResourceId, pathPart: '' }],
        methods: [],
        stages: [],
      });
      return { ref: apiId, attributes: { RootResourceId: rootResourceId, RestApiId: apiId } };
    }
    case 'AWS::ApiGateway::Resource': {
      const api = apiOf(state, str(props.RestApiId, `${where} RestApiId`), where);
      const resourceId = shortId(`${api.id}/${id}`, 6);
      api.resources.push({
        id: resourceId,
        parentId: str(props.ParentId, where),
        pathPart: str(props.PathPart, where),
      });
      return { ref: resourceId, attributes: { ResourceId: resourceId } };
    }
    case 'AWS::ApiGateway::Method': {
      const api = apiOf(state, str(props.RestApiId, `${where} RestApiId`), where);
      const integration = obj(props.Integration);
      const method: ApiMethod = {
        resourceId: str(props.ResourceId, `${where} ResourceId`),
        httpMethod: str(props.HttpMethod, `${where} HttpMethod`).toUpperCase(),
        authorizationType: typeof props.AuthorizationType === 'string' ? props.AuthorizationType : 'NONE',
        apiKeyRequired: props.ApiKeyRequired === true,
        ...(props.Integration
          ? {
              integration: {
                type: str(integration.Type ?? 'MOCK', `${where} Integration.Type`),
                ...(typeof integration.Uri === 'string' ? { uri: integration.Uri } : {}),
              },
            }
          : {}),
      };
      api.methods.push(method);
      return { ref: `${method.resourceId}-${method.httpMethod}`, attributes: {} };
    }
    case 'AWS::ApiGateway::Deployment': {
      const api = apiOf(state, str(props.RestApiId, `${where} RestApiId`), where);
      const deploymentId = shortId(`${api.id}/${id}`, 6);
      if (typeof props.StageName === 'string')
        addStage(api, props.StageName, obj(obj(props.StageDescription).Variables));
      return { ref: deploymentId, attributes: { DeploymentId: deploymentId } };
    }
    case 'AWS::ApiGateway::Stage': {
      const api = apiOf(state, str(props.RestApiId, `${where} RestApiId`), where);
      const stageName = str(props.StageName, `${where} StageName`);
      addStage(api, stageName, obj(props.Variables));
      return { ref: stageName, attributes: {} };
    }
    default:
      return placeholder(state.stack.stackName, id, resource.Type);
  }
}

/** Literal name property, absent (generated name), or undefined when an intrinsic computes it. */
function literalName(
  stackName: string,
  id: string,
  resource: TemplateResource,
  key: string,
  max: number,
  withStack = true,
): string | undefined {
  const value = resource.Properties?.[key];
  if (value === undefined) return physicalName(stackName, id, max, withStack);
  return typeof value === 'string' ? value : undefined;
}

/** `Ref` and attributes of a resource that are known before it is created (deterministic names). */
function knownInAdvance(
  state: StackState,
  id: string,
  resource: TemplateResource,
): PhysicalResource | undefined {
  const stackName = state.stack.stackName;
  const props = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table': {
      const name = literalName(stackName, id, resource, 'TableName', 255);
      if (!name || props.StreamSpecification !== undefined) return undefined;
      return { ref: name, attributes: { Arn: arn('dynamodb', `table/${name}`) } };
    }
    case 'AWS::SQS::Queue': {
      if (props.FifoQueue !== undefined && props.QueueName === undefined) return undefined;
      const name = literalName(stackName, id, resource, 'QueueName', 75);
      if (!name) return undefined;
      const url = state.options.sqs.queueUrl(name);
      return { ref: url, attributes: { Arn: arn('sqs', name), QueueName: name, QueueUrl: url } };
    }
    case 'AWS::Lambda::Function': {
      const name = literalName(stackName, id, resource, 'FunctionName', 64);
      if (!name) return undefined;
      return { ref: name, attributes: { Arn: state.options.lambda.functionArn(name) } };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = literalName(stackName, id, resource, 'StateMachineName', 80, false);
      if (!name) return undefined;
      const stateMachineArn = arn('states', `stateMachine:${name}`);
      return {
        ref: stateMachineArn,
        attributes: { Arn: stateMachineArn, Name: name, StateMachineRevisionId: '1' },
      };
    }
    default:
      return undefined;
  }
}

function apiOf(state: StackState, apiId: string, where: string): RestApiModel {
  const api = [...state.apis.values()].find((a) => a.id === apiId);
  if (!api) throw new TemplateError(`${where}: RestApiId ${apiId} is not a REST API of this stack`);
  return api;
}

function addStage(api: RestApiModel, name: string, variables: Record<string, Json>): void {
  api.stages = api.stages.filter((s) => s.name !== name);
  api.stages.push({
    name,
    variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
  });
}

/** `Ref`/`Arn` for a resource type the local cloud accepts without emulating it. */
function placeholder(stackName: string, id: string, type: string): PhysicalResource {
  const name = physicalName(stackName, id, 64);
  const [, service = 'unknown', kind = 'resource'] = type.split('::');
  const lower = service.toLowerCase();
  const resourceArn =
    lower === 'iam'
      ? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:${kind.toLowerCase()}/${name}`
      : lower === 'logs'
        ? arn('logs', `log-group:${name}:*`)
        : arn(lower, `${kind.toLowerCase()}/${name}`);
  return { ref: name, attributes: { Arn: resourceArn }, placeholder: true };
}

async function createTable(
  state: StackState,
  tableName: string,
  props: Record<string, Json>,
): Promise<PhysicalResource> {
  const pick = (index: Json) => {
    const i = obj(index);
    return {
      IndexName: i.IndexName,
      KeySchema: i.KeySchema,
      Projection: i.Projection,
      ...(i.ProvisionedThroughput ? { ProvisionedThroughput: i.ProvisionedThroughput } : {}),
    };
  };
  const billing = typeof props.BillingMode === 'string' ? props.BillingMode : 'PROVISIONED';
  const stream = obj(props.StreamSpecification);
  const input = {
    TableName: tableName,
    AttributeDefinitions: props.AttributeDefinitions,
    KeySchema: props.KeySchema,
    BillingMode: billing,
    ...(billing === 'PROVISIONED'
      ? {
          ProvisionedThroughput: props.ProvisionedThroughput ?? {
            ReadCapacityUnits: 5,
            WriteCapacityUnits: 5,
          },
        }
      : {}),
    ...(Array.isArray(props.GlobalSecondaryIndexes)
      ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes.map(pick) }
      : {}),
    ...(Array.isArray(props.LocalSecondaryIndexes)
      ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes.map(pick) }
      : {}),
    ...(typeof stream.StreamViewType === 'string'
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType } }
      : {}),
  } as unknown as CreateTableCommandInput;
  let streamArn: string | undefined;
  try {
    const out = await state.clients.dynamodb.send(new CreateTableCommand(input));
    streamArn = out.TableDescription?.LatestStreamArn;
  } catch (error) {
    // A persisted database (--persist) already has the table: adopt it, as the data is the point.
    if (!(error instanceof ResourceInUseException)) throw error;
    const existing = await state.clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    streamArn = existing.Table?.LatestStreamArn;
  }
  const ttl = obj(props.TimeToLiveSpecification);
  if (ttl.Enabled === true && typeof ttl.AttributeName === 'string') {
    await state.clients.dynamodb
      .send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      )
      .catch((error: unknown) => {
        // Re-enabling TTL on an adopted table is refused; anything else is a real error.
        if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
      });
  }
  return {
    ref: tableName,
    attributes: {
      Arn: arn('dynamodb', `table/${tableName}`),
      ...(streamArn ? { StreamArn: streamArn } : {}),
    },
  };
}

const QUEUE_ATTRIBUTES = [
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
];

async function createQueue(
  state: StackState,
  queueName: string,
  props: Record<string, Json>,
): Promise<PhysicalResource> {
  const attributes: Record<string, string> = {};
  for (const key of QUEUE_ATTRIBUTES) {
    const value = props[key];
    if (value === undefined || value === null) continue;
    attributes[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  const tags = Array.isArray(props.Tags)
    ? Object.fromEntries(props.Tags.map((t) => [str(obj(t).Key, 'Tag key'), str(obj(t).Value, 'Tag value')]))
    : undefined;
  const queueUrl = await state.options.sqs.createQueue({
    QueueName: queueName,
    Attributes: attributes,
    ...(tags ? { tags } : {}),
  });
  return {
    ref: queueUrl,
    attributes: { Arn: arn('sqs', queueName), QueueName: queueName, QueueUrl: queueUrl },
  };
}

async function createFunction(
  state: StackState,
  resource: TemplateResource,
  functionName: string,
  props: Record<string, Json>,
  where: string,
): Promise<PhysicalResource> {
  const code = obj(props.Code);
  const assetPath = resource.Metadata?.['aws:asset:path'];
  let codeDir: string;
  if (typeof assetPath === 'string') {
    codeDir = path.resolve(state.stack.assemblyDir, assetPath);
  } else if (typeof code.S3Key === 'string') {
    codeDir = path.resolve(state.stack.assemblyDir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
  } else {
    throw new TemplateError(
      `${where}: only asset code (Code.S3Key of the assembly) is supported, not inline code`,
    );
  }
  if (!existsSync(codeDir)) throw new TemplateError(`${where}: the asset folder ${codeDir} is missing`);
  const environment = Object.fromEntries(
    Object.entries(obj(obj(props.Environment).Variables)).map(([k, v]) => [k, String(v)]),
  );
  await state.options.lambda.createFunction({
    name: functionName,
    handler: str(props.Handler ?? 'index.handler', `${where} Handler`),
    runtime: str(props.Runtime ?? 'nodejs22.x', `${where} Runtime`),
    codeDir,
    environment,
    timeoutSeconds: Number(props.Timeout ?? 3),
    memoryMb: Number(props.MemorySize ?? 128),
    ...(typeof props.Description === 'string' ? { description: props.Description } : {}),
    ...(typeof props.Role === 'string' ? { role: props.Role } : {}),
    ...(Array.isArray(props.Architectures) ? { architectures: props.Architectures.map(String) } : {}),
    ...(props.ReservedConcurrentExecutions !== undefined
      ? { reservedConcurrency: Number(props.ReservedConcurrentExecutions) }
      : {}),
  });
  return { ref: functionName, attributes: { Arn: state.options.lambda.functionArn(functionName) } };
}

async function createStateMachine(
  state: StackState,
  name: string,
  props: Record<string, Json>,
  where: string,
): Promise<PhysicalResource> {
  let definition =
    typeof props.DefinitionString === 'string'
      ? props.DefinitionString
      : props.Definition !== undefined
        ? JSON.stringify(props.Definition)
        : undefined;
  if (definition === undefined) throw new TemplateError(`${where}: DefinitionS3Location is not supported`);
  for (const [key, value] of Object.entries(obj(props.DefinitionSubstitutions)))
    definition = definition.split(`\${${key}}`).join(String(value));
  const type = props.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';
  const { stateMachineArn } = await state.options.states.createStateMachine({
    name,
    definition,
    type,
    ...(typeof props.RoleArn === 'string' ? { roleArn: props.RoleArn } : {}),
  });
  return {
    ref: stateMachineArn,
    attributes: { Arn: stateMachineArn, Name: name, StateMachineRevisionId: '1' },
  };
}
