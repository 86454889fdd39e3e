/**
 * The local cloud's IAM: the roles, policies and resource policies of the deployed template, the
 * credentials of the sessions it hands out (a Lambda function's execution role, a state machine's role),
 * and the decision on every AWS call made with them.
 *
 * Identities: an access key the local cloud issued (`ASIA…`, in a function's environment, or used by the
 * state machines' integrations) is an assumed-role session of its role,
 * `arn:aws:sts::000000000000:assumed-role/<role>/<session>`. Any other key (`test`/`test`, the user's own
 * profile, an unsigned request) is the account's administrator, as in LocalStack: allowed everything an
 * explicit Deny in a resource policy does not forbid. Signatures are not verified (the secret is not checked).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { parseCredential } from '../protocol';
import type { AwsRequest, AwsResponse } from '../types';
import { LOCAL_ACCOUNT_ID } from '../types';
import {
  type Decision,
  denialMessage,
  evaluate,
  type MatchedStatement,
  type PolicySource,
  type Principal,
  parsePolicyDocument,
  type Statement,
} from './policy';
import { type Authorization, authorizationsOf } from './requests';

/** `STEPSAGA_IAM=off` disables enforcement (like `--iam off`). */
export const IAM_ENV = 'STEPSAGA_IAM';
/** `STEPSAGA_IAM_LOG=FILE` appends every decision to FILE as JSON lines (like `--iam-log FILE`). */
export const IAM_LOG_ENV = 'STEPSAGA_IAM_LOG';

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface RoleModel {
  arn: string;
  name: string;
  logicalId: string;
  stackName: string;
  policies: PolicySource[];
}

/** One line of the decision log. */
export interface DecisionRecord {
  type: 'decision';
  principal: string;
  role?: string;
  action: string;
  resource: string;
  decision: Decision['decision'];
  matched?: MatchedStatement;
  /** Who asked: the edge (an SDK call) or a service calling another (API Gateway → Lambda, Task → Lambda). */
  via: 'edge' | 'apigateway' | 'states';
  /** The request's own condition keys (API Gateway's `aws:SourceArn`). */
  context?: Record<string, string | string[]>;
  unknownOperators?: string[];
}

/** How many denial records the enforcer keeps for {@link IamSummary} (the count goes on). */
export const MAX_DENIED_KEPT = 100;

/** `GET /_localcloud/iam`: whether IAM is enforced, decisions and denials since start, the first denials. */
export interface IamSummary {
  enabled: boolean;
  decisions: number;
  denials: number;
  denied: DecisionRecord[];
}

/** One line per denial, for a failing check: `principal: action on resource (decision)`. */
export function describeDenial(record: DecisionRecord): string {
  return `${record.principal}: ${record.action} on ${record.resource} (${record.decision}${record.unknownOperators ? `, ${record.unknownOperators.join(', ')}` : ''})`;
}

/** Written once per role when a stack is loaded: what the report compares the decisions with. */
export interface GrantsRecord {
  type: 'grants';
  role: string;
  logicalId: string;
  stackName: string;
  grants: Array<{ policy: string; sid?: string; index: number; action: string; resource: string }>;
}

/** A resource of the template that carries IAM, its properties resolved by the deployer. */
export interface IamResource {
  stackName: string;
  logicalId: string;
  type: string;
  /** `Ref` of the resource (a role's name). */
  ref: string;
  /** `Fn::GetAtt Arn` when it has one. */
  arn?: string;
  properties: Record<string, unknown>;
}

export const IAM_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::Lambda::Permission',
  'AWS::SQS::QueuePolicy',
]);

/** AWS managed policies the local cloud knows (others grant nothing locally, and are reported). */
const AWS_MANAGED: Record<string, Statement[]> = {
  'service-role/AWSLambdaBasicExecutionRole': [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: ['*'],
    },
  ],
  'service-role/AmazonAPIGatewayPushToCloudWatchLogs': [
    {
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:DescribeLogGroups',
        'logs:DescribeLogStreams',
        'logs:PutLogEvents',
        'logs:GetLogEvents',
        'logs:FilterLogEvents',
      ],
      Resource: ['*'],
    },
  ],
  AdministratorAccess: [{ Effect: 'Allow', Action: ['*'], Resource: ['*'] }],
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter(
    (v): v is string => typeof v === 'string',
  );

export interface IamOptions {
  /** @default true */
  enabled?: boolean;
  /** JSON-lines decision log. */
  logFile?: string;
  /** Called with every decision (tests, the console). */
  onDecision?: (record: DecisionRecord) => void;
  /** A line for the user (why API Gateway answered 500). */
  log?: (line: string) => void;
}

export class IamEnforcer {
  readonly enabled: boolean;
  readonly logFile: string | undefined;
  private readonly roles = new Map<string, RoleModel>();
  /** Resource ARN → its resource-based policies (Lambda permissions, SQS queue policies). */
  private readonly resourcePolicies = new Map<string, PolicySource[]>();
  private readonly sessions = new Map<
    string,
    { roleArn: string; session: string; secret: string; token: string }
  >();
  private readonly issued = new Map<string, SessionCredentials>();
  private readonly stream: WriteStream | undefined;
  private readonly listeners = new Set<(record: DecisionRecord) => void>();
  /** Problems met while loading policies (unknown managed policies, unparsable documents). */
  readonly warnings: string[] = [];
  /** Decisions and denials seen since start (the chaos report, the test clouds' check on close). */
  denials = 0;
  decisions = 0;
  /** The first {@link MAX_DENIED_KEPT} denials, as logged. */
  readonly denied: DecisionRecord[] = [];

  constructor(private readonly options: IamOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.logFile = options.logFile;
    this.stream = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  }

  // ----------------------------------------------------------------------------------------------------
  // The model
  // ----------------------------------------------------------------------------------------------------

  /** Loads a deployed stack's roles, policies and resource policies (properties resolved). */
  loadStack(resources: IamResource[]): void {
    const byType = (type: string) => resources.filter((r) => r.type === type);
    const roleByName = new Map<string, RoleModel>();
    for (const r of byType('AWS::IAM::Role')) {
      const arn = r.arn ?? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${r.ref}`;
      const role: RoleModel = {
        arn,
        name: r.ref,
        logicalId: r.logicalId,
        stackName: r.stackName,
        policies: [],
      };
      for (const [i, inline] of (Array.isArray(r.properties.Policies)
        ? r.properties.Policies
        : []
      ).entries()) {
        if (!isRecord(inline)) continue;
        const name = typeof inline.PolicyName === 'string' ? inline.PolicyName : `inline${i}`;
        this.addIdentity(role, `${r.logicalId}/${name}`, inline.PolicyDocument);
      }
      for (const managed of strings(r.properties.ManagedPolicyArns))
        this.addManaged(role, managed, resources);
      this.roles.set(arn, role);
      roleByName.set(r.ref, role);
    }
    const attach = (r: IamResource) => {
      for (const roleRef of strings(r.properties.Roles)) {
        const role = roleByName.get(roleRef) ?? roleByName.get(roleRef.split('/').pop() ?? '');
        if (!role) {
          this.warnings.push(`${r.stackName}/${r.logicalId}: role ${roleRef} is not a role of the stack`);
          continue;
        }
        this.addIdentity(role, r.logicalId, r.properties.PolicyDocument);
      }
    };
    for (const r of byType('AWS::IAM::Policy')) attach(r);
    for (const r of byType('AWS::IAM::ManagedPolicy')) attach(r);
    for (const r of byType('AWS::Lambda::Permission')) this.addLambdaPermission(r);
    for (const r of byType('AWS::SQS::QueuePolicy')) {
      const statements = this.parse(r.properties.PolicyDocument, `${r.stackName}/${r.logicalId}`);
      for (const queueUrl of strings(r.properties.Queues)) {
        const name = queueUrl.split('/').filter(Boolean).pop() ?? queueUrl;
        const queueArn = queueUrl.startsWith('arn:')
          ? queueUrl
          : `arn:aws:sqs:${regionOf(r)}:${LOCAL_ACCOUNT_ID}:${name}`;
        this.addResourcePolicy(queueArn, { kind: 'resource', name: r.logicalId, statements });
      }
    }
    for (const role of roleByName.values()) this.writeLine(grantsOf(role));
  }

  private parse(doc: unknown, where: string): Statement[] {
    try {
      return parsePolicyDocument(doc, where);
    } catch (error) {
      this.warnings.push(`${where}: ${(error as Error).message} (grants nothing locally)`);
      return [];
    }
  }

  private addIdentity(role: RoleModel, name: string, doc: unknown): void {
    role.policies.push({ kind: 'identity', name, statements: this.parse(doc, name) });
  }

  private addManaged(role: RoleModel, policyArn: string, resources: IamResource[]): void {
    const own = resources.find(
      (r) => r.type === 'AWS::IAM::ManagedPolicy' && (r.ref === policyArn || r.arn === policyArn),
    );
    if (own) {
      this.addIdentity(role, own.logicalId, own.properties.PolicyDocument);
      return;
    }
    const awsManaged = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/.exec(policyArn)?.[1];
    const statements = awsManaged ? AWS_MANAGED[awsManaged] : undefined;
    if (statements) role.policies.push({ kind: 'identity', name: policyArn, statements });
    else
      this.warnings.push(
        `${role.logicalId}: managed policy ${policyArn} is unknown to the local cloud (grants nothing locally)`,
      );
  }

  private addLambdaPermission(r: IamResource): void {
    const p = r.properties;
    const functionName = typeof p.FunctionName === 'string' ? p.FunctionName : '';
    const functionArn = functionName.startsWith('arn:')
      ? functionName
      : `arn:aws:lambda:${regionOf(r)}:${LOCAL_ACCOUNT_ID}:function:${functionName}`;
    const principal = typeof p.Principal === 'string' ? p.Principal : '';
    const condition: Record<string, Record<string, string[]>> = {};
    if (typeof p.SourceArn === 'string') condition.ArnLike = { 'aws:SourceArn': [p.SourceArn] };
    if (typeof p.SourceAccount === 'string')
      condition.StringEquals = { 'aws:SourceAccount': [p.SourceAccount] };
    const statement: Statement = {
      Sid: r.logicalId,
      Effect: 'Allow',
      Action: [typeof p.Action === 'string' ? p.Action : 'lambda:InvokeFunction'],
      Resource: [functionArn, `${functionArn}:*`],
      Principal: principal.endsWith('.amazonaws.com') ? { Service: [principal] } : { AWS: [principal] },
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    };
    this.addResourcePolicy(functionArn, { kind: 'resource', name: r.logicalId, statements: [statement] });
  }

  private addResourcePolicy(resourceArn: string, source: PolicySource): void {
    this.resourcePolicies.set(resourceArn, [...(this.resourcePolicies.get(resourceArn) ?? []), source]);
  }

  /** Calls `listener` with every logged decision until the returned function is called. */
  onDecision(listener: (record: DecisionRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  role(roleArn: string): RoleModel | undefined {
    return this.roles.get(roleArn);
  }

  listRoles(): RoleModel[] {
    return [...this.roles.values()];
  }

  // ----------------------------------------------------------------------------------------------------
  // Identities
  // ----------------------------------------------------------------------------------------------------

  /**
   * The credentials of a session of `roleArn` (stable per role and session name), or undefined when the
   * local cloud does not know the role (a function created through the API with any role ARN runs with
   * the administrator's `test` credentials) or enforcement is off.
   */
  credentialsFor(roleArn: string | undefined, session: string): SessionCredentials | undefined {
    if (!this.enabled || !roleArn || !this.roles.has(roleArn)) return undefined;
    const key = `${roleArn} ${session}`;
    const existing = this.issued.get(key);
    if (existing) return existing;
    const digest = createHash('sha256').update(key).digest();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    const accessKeyId = `ASIA${[...digest.subarray(0, 16)].map((b) => alphabet[b % 32]).join('')}`;
    const credentials: SessionCredentials = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `localcloud/${randomBytes(48).toString('base64')}`,
    };
    this.sessions.set(accessKeyId, {
      roleArn,
      session,
      secret: credentials.secretAccessKey,
      token: credentials.sessionToken,
    });
    this.issued.set(key, credentials);
    return credentials;
  }

  /** The principal behind an access key: a session the local cloud issued, else the administrator. */
  principalOf(accessKeyId: string | undefined): Principal {
    const session = accessKeyId ? this.sessions.get(accessKeyId) : undefined;
    if (!session) return rootPrincipal();
    return sessionPrincipal(session.roleArn, session.session);
  }

  sessionPrincipal(roleArn: string, session: string): Principal {
    return sessionPrincipal(roleArn, session);
  }

  // ----------------------------------------------------------------------------------------------------
  // Decisions
  // ----------------------------------------------------------------------------------------------------

  /** Decides one action on one resource, logs it, and returns the decision with AWS's message. */
  check(
    principal: Principal,
    authorization: Authorization,
    via: DecisionRecord['via'],
    keys: Record<string, string | string[]> = {},
  ): { allowed: boolean; message: string; decision: Decision } {
    const context = {
      principal,
      action: authorization.action,
      resource: authorization.resource,
      keys: {
        // The edge speaks http on loopback, standing for AWS's TLS endpoints (every SDK uses https there):
        // aws:SecureTransport is true, so the stack's "deny without TLS" statements do not fire locally.
        'aws:securetransport': 'true',
        'aws:principalaccount': principal.account,
        'aws:principalarn': principal.roleArn ?? principal.arn,
        'aws:principaltype':
          principal.kind === 'session' ? 'AssumedRole' : principal.kind === 'root' ? 'Account' : 'Service',
        'aws:currenttime': new Date().toISOString(),
        ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [k.toLowerCase(), v])),
      },
    };
    const identity = principal.roleArn ? (this.roles.get(principal.roleArn)?.policies ?? []) : [];
    const resource = this.resourcePoliciesOf(authorization.resource);
    const decision = evaluate(context, identity, resource, principal.kind === 'root');
    const allowed = decision.decision === 'allow';
    this.decisions++;
    if (!allowed) this.denials++;
    const record: DecisionRecord = {
      type: 'decision',
      principal: principal.arn,
      ...(principal.roleArn ? { role: principal.roleArn } : {}),
      action: authorization.action,
      resource: authorization.resource,
      decision: decision.decision,
      via,
      ...(Object.keys(keys).length > 0 ? { context: keys } : {}),
      ...('matched' in decision && decision.matched ? { matched: decision.matched } : {}),
      ...('unknownOperators' in decision && decision.unknownOperators
        ? { unknownOperators: decision.unknownOperators }
        : {}),
    };
    if (decision.decision === 'explicitDeny' && decision.unknownOperators)
      this.options.log?.(
        `IAM: ${authorization.action} on ${authorization.resource} denied to ${principal.arn} by ${decision.matched.sid ?? `${decision.matched.policy} Statement[${decision.matched.index}]`}: the local cloud does not evaluate ${decision.unknownOperators.join(', ')}, and a Deny it cannot evaluate applies (fails closed)`,
      );
    if (!allowed && this.denied.length < MAX_DENIED_KEPT) this.denied.push(record);
    // The administrator's allowed calls are not part of the least-privilege story: not logged.
    if (principal.kind !== 'root' || !allowed) {
      this.writeLine(record);
      this.options.onDecision?.(record);
      for (const listener of this.listeners) listener(record);
    }
    return { allowed, message: allowed ? '' : denialMessage(context, decision), decision };
  }

  /** What `GET /_localcloud/iam` answers: the counts since start and the first denials. */
  summary(): IamSummary {
    return { enabled: this.enabled, decisions: this.decisions, denials: this.denials, denied: this.denied };
  }

  private resourcePoliciesOf(resourceArn: string): PolicySource[] {
    if (this.resourcePolicies.size === 0) return [];
    const exact = this.resourcePolicies.get(resourceArn);
    // A qualified Lambda ARN (`function:name:qualifier`) is governed by the function's policy.
    const fn = /^(arn:aws:lambda:[^:]+:\d+:function:[^:]+):.+$/.exec(resourceArn)?.[1];
    const base = fn ? this.resourcePolicies.get(fn) : undefined;
    return [...(exact ?? []), ...(base ?? [])];
  }

  /** The edge's hook: undefined = go on; else the denial as the service answers it. */
  authorizeRequest(req: AwsRequest): AwsResponse | undefined {
    if (!this.enabled) return undefined;
    const authorizations = authorizationsOf(req);
    if (authorizations.length === 0) return undefined;
    const principal = this.principalOf(parseCredential(req.headers, req.query)?.accessKeyId);
    for (const authorization of authorizations) {
      const { allowed, message } = this.check(principal, authorization, 'edge');
      if (!allowed) return accessDenied(req, message);
    }
    return undefined;
  }

  /** Whether a service principal may invoke a function (API Gateway: the function's Lambda permissions). */
  authorizeServiceInvoke(
    service: string,
    functionArn: string,
    sourceArn: string,
  ): { allowed: boolean; message: string } {
    if (!this.enabled) return { allowed: true, message: '' };
    const principal: Principal = { arn: service, kind: 'service', account: LOCAL_ACCOUNT_ID };
    const { allowed, message } = this.check(
      principal,
      { action: 'lambda:InvokeFunction', resource: functionArn },
      'apigateway',
      { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': LOCAL_ACCOUNT_ID },
    );
    if (!allowed)
      this.options.log?.(
        `API Gateway: Execution failed due to configuration error: Invalid permissions on Lambda function ${functionArn} (no Lambda permission allows ${service} with SourceArn ${sourceArn})`,
      );
    return { allowed, message: allowed ? '' : `Invalid permissions on Lambda function: ${message}` };
  }

  /** Whether a role (a state machine's) may invoke a function in-process; undefined when it may. */
  authorizeRoleInvoke(roleArn: string, session: string, functionArn: string): string | undefined {
    if (!this.enabled || !this.roles.has(roleArn)) return undefined;
    const { allowed, message } = this.check(
      sessionPrincipal(roleArn, session),
      { action: 'lambda:InvokeFunction', resource: functionArn },
      'states',
    );
    return allowed ? undefined : message;
  }

  private writeLine(record: DecisionRecord | GrantsRecord): void {
    this.stream?.write(`${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (stream) await new Promise<void>((resolve) => stream.end(resolve));
  }
}

function regionOf(r: IamResource): string {
  return /^arn:aws:[a-z0-9-]+:([a-z0-9-]+):/.exec(r.arn ?? '')?.[1] ?? 'us-east-1';
}

function rootPrincipal(): Principal {
  return { arn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root`, kind: 'root', account: LOCAL_ACCOUNT_ID };
}

function sessionPrincipal(roleArn: string, session: string): Principal {
  const roleName = roleArn.split('/').pop() ?? roleArn;
  return {
    arn: `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/${roleName}/${session}`,
    roleArn,
    kind: 'session',
    account: LOCAL_ACCOUNT_ID,
  };
}

/** Every Allow statement's literal action × resource pairs: what the report checks were exercised. */
export function grantsOf(role: RoleModel): GrantsRecord {
  const grants: GrantsRecord['grants'] = [];
  for (const policy of role.policies)
    for (const [index, s] of policy.statements.entries()) {
      if (s.Effect !== 'Allow') continue;
      for (const action of s.Action ?? s.NotAction?.map((a) => `NotAction:${a}`) ?? [])
        for (const resource of s.Resource ?? s.NotResource?.map((r) => `NotResource:${r}`) ?? ['*'])
          grants.push({ policy: policy.name, index, action, resource, ...(s.Sid ? { sid: s.Sid } : {}) });
    }
  return { type: 'grants', role: role.arn, logicalId: role.logicalId, stackName: role.stackName, grants };
}

/** AWS's denial, in each service's protocol and status. */
export function accessDenied(req: AwsRequest, message: string): AwsResponse {
  switch (req.service) {
    case 'lambda':
      return {
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
        body: JSON.stringify({ Type: 'User', Message: message }),
      };
    case 'sqs':
      if (!req.target)
        return {
          status: 403,
          headers: { 'content-type': 'text/xml' },
          body: `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${escapeXml(message)}</Message><Detail/></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`,
        };
      return {
        status: 403,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-errortype': 'AccessDeniedException',
          'x-amzn-query-error': 'AccessDenied;Sender',
        },
        body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }),
      };
    default:
      // DynamoDB and Step Functions: 400 with the coral AccessDeniedException.
      return {
        status: 400,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-errortype': 'AccessDeniedException',
        },
        body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }),
      };
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
