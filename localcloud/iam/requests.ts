/**
 * What an AWS API request asks IAM for: the actions and resources AWS authorizes it as. Most calls are one
 * action on one resource; some are authorized per item, as AWS does: `BatchGetItem`/`BatchWriteItem` per
 * table, `TransactWriteItems` as `PutItem`/`UpdateItem`/`DeleteItem`/`ConditionCheckItem` on each item's
 * table, `TransactGetItems` as `GetItem`, and `Query`/`Scan` on an index as `table/<T>/index/<I>`.
 */
import { functionNameOf } from '../lambda/service';
import type { AwsRequest } from '../types';
import { LOCAL_ACCOUNT_ID } from '../types';

export interface Authorization {
  action: string;
  resource: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function jsonBody(req: AwsRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(req.body.toString('utf8'));
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${LOCAL_ACCOUNT_ID}:${resource}`;

/** The authorizations one request needs; empty when IAM does not apply (console, health, REST API calls). */
export function authorizationsOf(req: AwsRequest): Authorization[] {
  switch (req.service) {
    case 'dynamodb':
      return dynamodb(req);
    case 'sqs':
      return sqs(req);
    case 'states':
      return states(req);
    case 'lambda':
      return lambda(req);
    default:
      return [];
  }
}

const unique = (list: Authorization[]): Authorization[] => {
  const seen = new Set<string>();
  return list.filter((a) => {
    const key = `${a.action} ${a.resource}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

// ------------------------------------------------------------------------------------------------------

function dynamodb(req: AwsRequest): Authorization[] {
  const operation = req.target?.split('.').pop() ?? '';
  const body = jsonBody(req);
  const table = (name: unknown) =>
    typeof name !== 'string'
      ? arn('dynamodb', req.region, 'table/*')
      : name.startsWith('arn:')
        ? name
        : arn('dynamodb', req.region, `table/${name}`);
  const action = `dynamodb:${operation}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return unique(
        Object.keys(isRecord(body.RequestItems) ? body.RequestItems : {}).map((t) => ({
          action,
          resource: table(t),
        })),
      );
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = Array.isArray(body.TransactItems) ? body.TransactItems : [];
      const perItem: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return unique(
        items.flatMap((item) =>
          isRecord(item)
            ? Object.entries(item)
                .filter(([kind, spec]) => perItem[kind] && isRecord(spec))
                .map(([kind, spec]) => ({
                  action: `dynamodb:${perItem[kind]}`,
                  resource: table((spec as Record<string, unknown>).TableName),
                }))
            : [],
        ),
      );
    }
    case 'Query':
    case 'Scan': {
      const index = typeof body.IndexName === 'string' ? `/index/${body.IndexName}` : '';
      return [{ action, resource: `${table(body.TableName)}${index}` }];
    }
    case 'ListTables':
    case 'DescribeEndpoints':
    case 'DescribeLimits':
      return [{ action, resource: '*' }];
    case 'ExecuteStatement':
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction':
      return partiql(req.region, body);
    default: {
      const resource =
        body.TableName !== undefined
          ? table(body.TableName)
          : typeof body.ResourceArn === 'string'
            ? body.ResourceArn
            : typeof body.StreamArn === 'string'
              ? body.StreamArn
              : '*';
      return [{ action, resource }];
    }
  }
}

/** PartiQL: `dynamodb:PartiQL<Verb>` on the table each statement names. */
function partiql(region: string, body: Record<string, unknown>): Authorization[] {
  const statements: string[] = [];
  if (typeof body.Statement === 'string') statements.push(body.Statement);
  for (const list of [body.Statements, body.TransactStatements])
    if (Array.isArray(list))
      for (const s of list) if (isRecord(s) && typeof s.Statement === 'string') statements.push(s.Statement);
  return unique(
    statements.map((statement) => {
      const verb = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase() ?? 'SELECT';
      const action = `dynamodb:PartiQL${{ SELECT: 'Select', INSERT: 'Insert', UPDATE: 'Update', DELETE: 'Delete' }[verb] ?? 'Select'}`;
      const name = /(?:FROM|INTO|UPDATE)\s+"([^"]+)"(?:\."([^"]+)")?/i.exec(statement);
      const resource = name?.[1]
        ? arn('dynamodb', region, `table/${name[1]}${name[2] ? `/index/${name[2]}` : ''}`)
        : arn('dynamodb', region, 'table/*');
      return { action, resource };
    }),
  );
}

// ------------------------------------------------------------------------------------------------------

function sqs(req: AwsRequest): Authorization[] {
  let operation: string;
  let params: Record<string, unknown>;
  if (req.target) {
    operation = req.target.split('.').pop() ?? '';
    params = jsonBody(req);
  } else {
    const form = new URLSearchParams(req.body.toString('utf8'));
    operation = form.get('Action') ?? req.query.get('Action') ?? '';
    params = Object.fromEntries([...req.query, ...form]);
  }
  const action = `sqs:${operation}`;
  const queueUrl = typeof params.QueueUrl === 'string' ? params.QueueUrl : undefined;
  const fromPath = req.path.split('/').filter(Boolean);
  const queueName =
    typeof params.QueueName === 'string'
      ? params.QueueName
      : queueUrl
        ? queueUrl.split('/').filter(Boolean).pop()
        : fromPath.length === 2
          ? fromPath[1]
          : undefined;
  if (operation === 'ListQueues') return [{ action, resource: '*' }];
  if (!queueName) return [{ action, resource: '*' }];
  // SendMessageBatch & co are authorized as their single-message action, as AWS does.
  const single = action.replace(/Batch$/, '');
  return [{ action: single, resource: arn('sqs', req.region, queueName) }];
}

// ------------------------------------------------------------------------------------------------------

/** Operations that hand a role to Step Functions: AWS also requires `iam:PassRole` on that role. */
const PASSES_ROLE = new Set(['CreateStateMachine', 'UpdateStateMachine', 'TestState']);

function states(req: AwsRequest): Authorization[] {
  const operation = req.target?.split('.').pop() ?? '';
  const body = jsonBody(req);
  const passRole: Authorization[] =
    PASSES_ROLE.has(operation) && typeof body.roleArn === 'string'
      ? [{ action: 'iam:PassRole', resource: body.roleArn }]
      : [];
  return [statesAuthorization(req, operation, body), ...passRole];
}

function statesAuthorization(
  req: AwsRequest,
  operation: string,
  body: Record<string, unknown>,
): Authorization {
  const action = `states:${operation}`;
  for (const key of ['stateMachineArn', 'executionArn', 'activityArn', 'mapRunArn', 'resourceArn']) {
    const value = body[key];
    // `<stateMachineArn>#<TestCase>` (mocked executions) is the state machine's.
    if (typeof value === 'string') return { action, resource: value.split('#')[0] as string };
  }
  if (operation === 'CreateStateMachine' && typeof body.name === 'string')
    return { action, resource: arn('states', req.region, `stateMachine:${body.name}`) };
  return { action, resource: '*' };
}

// ------------------------------------------------------------------------------------------------------

function lambda(req: AwsRequest): Authorization[] {
  const match = /^\/2015-03-31\/functions(?:\/([^/]+))?(?:\/(invocations|configuration|code))?\/?$/.exec(
    req.path,
  );
  if (!match) return [{ action: 'lambda:Unknown', resource: '*' }];
  const name = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
  const functionArn = (n: string) => {
    const ref = functionNameOf(n);
    const qualifier = req.query.get('Qualifier') ?? ref?.qualifier;
    return arn('lambda', req.region, `function:${ref?.name ?? n}${qualifier ? `:${qualifier}` : ''}`);
  };
  if (name === undefined) {
    if (req.method === 'POST') {
      const body = jsonBody(req);
      const created = typeof body.FunctionName === 'string' ? functionArn(body.FunctionName) : '*';
      return [{ action: 'lambda:CreateFunction', resource: created }];
    }
    return [{ action: 'lambda:ListFunctions', resource: '*' }];
  }
  const resource = functionArn(name);
  const sub = match[2];
  if (sub === 'invocations') return [{ action: 'lambda:InvokeFunction', resource }];
  if (sub === 'configuration') return [{ action: 'lambda:GetFunctionConfiguration', resource }];
  if (req.method === 'DELETE') return [{ action: 'lambda:DeleteFunction', resource }];
  return [{ action: 'lambda:GetFunction', resource }];
}
