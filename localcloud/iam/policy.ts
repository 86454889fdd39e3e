/**
 * IAM policy documents and their evaluation, the way AWS's policy evaluation logic decides a request in
 * one account: an explicit Deny in any applicable policy wins; otherwise an Allow in an identity-based
 * policy of the principal, or in the resource's policy naming the principal, allows; otherwise the request
 * is implicitly denied.
 *
 * Covered: `Action`/`NotAction` (case-insensitive, `*` and `?`), `Resource`/`NotResource` (case-sensitive
 * wildcards), `Principal`/`NotPrincipal` in resource policies (`*`, `AWS` ARNs and account ids, `Service`),
 * and the condition operators of the String, Arn, Bool and Null families (with `...IfExists` and the
 * `ForAnyValue:`/`ForAllValues:` set qualifiers). A key absent from the request makes a condition false,
 * except for the negated operators (`StringNotEquals`, `ArnNotLike`, ...), which hold, as AWS documents
 * ("IAM JSON policy elements: Condition operators"); `...IfExists` holds when the key is absent.
 * An operator this evaluator does not know fails closed, and the decision names it: an Allow using it grants
 * nothing, a Deny using it denies (as if its condition held), so nothing is ever allowed silently.
 * Not covered: policy variables (`${aws:username}`), Numeric/Date/IpAddress/Binary operators.
 *
 * Why our own evaluator: the issue suggested a kept one, `@cloud-copilot/iam-simulate`, but its licence is
 * AGPL-3.0-or-later (npm metadata, v0.1.173, checked 2026-12-05), which does not fit this Apache-2.0
 * project; the subset this stack's policies use is small enough to evaluate here and test in
 * test/localcloud/iam.test.ts.
 */

export type Effect = 'Allow' | 'Deny';

export interface Statement {
  Sid?: string;
  Effect: Effect;
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  /** `'*'` or `{AWS: [...], Service: [...]}` (resource policies only). */
  Principal?: '*' | Record<string, string[]>;
  NotPrincipal?: '*' | Record<string, string[]>;
  Condition?: Record<string, Record<string, string[]>>;
}

/** Where a statement comes from: a named policy attached to a role, or a resource's policy. */
export interface PolicySource {
  kind: 'identity' | 'resource';
  /** Policy name (`AWS::IAM::Policy` logical id, inline policy name, managed policy ARN, resource ARN). */
  name: string;
  statements: Statement[];
}

export interface Principal {
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`, `arn:aws:iam::<account>:root`, or a service. */
  arn: string;
  /** The role behind an assumed-role session. */
  roleArn?: string;
  kind: 'session' | 'root' | 'service';
  account: string;
}

export interface RequestContext {
  principal: Principal;
  action: string;
  resource: string;
  /** Condition keys (`aws:SecureTransport`, `aws:SourceArn`, ...): lower-cased names. */
  keys: Record<string, string | string[]>;
}

export interface MatchedStatement {
  policy: string;
  kind: PolicySource['kind'];
  sid?: string;
  index: number;
  /** The `Action` pattern that matched (absent for `NotAction`). */
  actionPattern?: string;
  /** The `Resource` pattern that matched (absent for `NotResource` and resource policies without one). */
  resourcePattern?: string;
}

export type Decision =
  | { decision: 'allow'; matched?: MatchedStatement }
  /** `unknownOperators`: the Deny matched only because operators this evaluator does not know fail closed. */
  | { decision: 'explicitDeny'; matched: MatchedStatement; unknownOperators?: string[] }
  | { decision: 'implicitDeny'; unknownOperators?: string[] };

// ------------------------------------------------------------------------------------------------------
// Parsing (from the deployed template's resolved JSON)
// ------------------------------------------------------------------------------------------------------

export class PolicyError extends Error {}

const list = (value: unknown, where: string): string[] | undefined => {
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? value : [value];
  return values.map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new PolicyError(`${where}: expected strings, got ${JSON.stringify(v)}`);
  });
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function principalOf(value: unknown, where: string): Statement['Principal'] {
  if (value === undefined) return undefined;
  if (value === '*') return '*';
  if (!isRecord(value)) throw new PolicyError(`${where}: Principal must be "*" or an object`);
  const out: Record<string, string[]> = {};
  for (const [key, v] of Object.entries(value)) out[key] = list(v, `${where}.${key}`) ?? [];
  return out;
}

/** A policy document (`{Version, Statement}`) as resolved from the template. */
export function parsePolicyDocument(doc: unknown, where: string): Statement[] {
  const text = typeof doc === 'string' ? (JSON.parse(doc) as unknown) : doc;
  if (!isRecord(text)) throw new PolicyError(`${where}: a policy document must be an object`);
  const raw = text.Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return statements.map((s, i) => {
    const at = `${where} Statement[${i}]`;
    if (!isRecord(s)) throw new PolicyError(`${at}: must be an object`);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
      throw new PolicyError(`${at}: Effect must be Allow or Deny`);
    const statement: Statement = { Effect: s.Effect };
    if (typeof s.Sid === 'string') statement.Sid = s.Sid;
    for (const key of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
      const values = list(s[key], `${at}.${key}`);
      if (values) statement[key] = values;
    }
    const principal = principalOf(s.Principal, `${at}.Principal`);
    if (principal) statement.Principal = principal;
    const notPrincipal = principalOf(s.NotPrincipal, `${at}.NotPrincipal`);
    if (notPrincipal) statement.NotPrincipal = notPrincipal;
    if (s.Condition !== undefined) {
      if (!isRecord(s.Condition)) throw new PolicyError(`${at}.Condition must be an object`);
      const condition: Record<string, Record<string, string[]>> = {};
      for (const [operator, block] of Object.entries(s.Condition)) {
        if (!isRecord(block)) throw new PolicyError(`${at}.Condition.${operator} must be an object`);
        condition[operator] = {};
        for (const [key, v] of Object.entries(block))
          (condition[operator] as Record<string, string[]>)[key] =
            list(v, `${at}.Condition.${operator}.${key}`) ?? [];
      }
      statement.Condition = condition;
    }
    return statement;
  });
}

// ------------------------------------------------------------------------------------------------------
// Matching
// ------------------------------------------------------------------------------------------------------

const patternCache = new Map<string, RegExp>();

/** IAM wildcards: `*` any run of characters (across `:` and `/`), `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*') && !pattern.includes('?'))
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = patternCache.get(key);
  if (!regex) {
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'si' : 's');
    patternCache.set(key, regex);
  }
  return regex.test(value);
}

/** `arn:partition:service:region:account:resource`: each of the first five parts matched on its own. */
function arnLike(pattern: string, value: string): boolean {
  const p = pattern.split(':');
  const v = value.split(':');
  if (p.length < 6 || v.length < 6) return wildcardMatch(pattern, value);
  for (let i = 0; i < 5; i++) if (!wildcardMatch(p[i] as string, v[i] as string)) return false;
  return wildcardMatch(p.slice(5).join(':'), v.slice(5).join(':'));
}

function principalMatches(spec: '*' | Record<string, string[]>, principal: Principal): boolean {
  if (spec === '*') return true;
  for (const [type, values] of Object.entries(spec)) {
    for (const value of values) {
      if (type === 'Service' && principal.kind === 'service' && value === principal.arn) return true;
      if (type !== 'AWS') continue;
      if (value === '*') return true;
      if (principal.kind === 'service') continue;
      // An account (id or root ARN) names every principal of the account; a role ARN names its sessions.
      if (value === principal.account || value === `arn:aws:iam::${principal.account}:root`) return true;
      if (principal.kind === 'session' && (value === principal.roleArn || value === principal.arn))
        return true;
    }
  }
  return false;
}

/** Whether the principal is named by the role/session itself (not merely by its account). */
function principalNamedExactly(spec: '*' | Record<string, string[]>, principal: Principal): boolean {
  if (spec === '*') return true;
  const aws = spec.AWS ?? [];
  if (aws.includes('*')) return true;
  if (principal.kind === 'service') return (spec.Service ?? []).includes(principal.arn);
  if (principal.kind === 'root') return aws.includes(principal.account) || aws.includes(principal.arn);
  return aws.some((v) => v === principal.roleArn || v === principal.arn);
}

type Operator = (patterns: string[], values: string[]) => boolean;

const anyOf =
  (test: (pattern: string, value: string) => boolean): Operator =>
  (patterns, values) =>
    values.some((v) => patterns.some((p) => test(p, v)));
const noneOf =
  (test: (pattern: string, value: string) => boolean): Operator =>
  (patterns, values) =>
    !values.some((v) => patterns.some((p) => test(p, v)));

/** The negated operators: with the key absent from the request they hold (AWS: "the condition is true"). */
const NEGATED = new Set([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'ArnNotEquals',
  'ArnNotLike',
]);

const OPERATORS: Record<string, Operator> = {
  StringEquals: anyOf((p, v) => p === v),
  StringNotEquals: noneOf((p, v) => p === v),
  StringEqualsIgnoreCase: anyOf((p, v) => p.toLowerCase() === v.toLowerCase()),
  StringNotEqualsIgnoreCase: noneOf((p, v) => p.toLowerCase() === v.toLowerCase()),
  StringLike: anyOf((p, v) => wildcardMatch(p, v)),
  StringNotLike: noneOf((p, v) => wildcardMatch(p, v)),
  ArnEquals: anyOf(arnLike),
  ArnLike: anyOf(arnLike),
  ArnNotEquals: noneOf(arnLike),
  ArnNotLike: noneOf(arnLike),
  Bool: anyOf((p, v) => p.toLowerCase() === v.toLowerCase()),
};

/**
 * Whether every condition of a statement holds. An operator this evaluator does not know is collected in
 * `unknown` and fails closed: it fails in an Allow and holds in a Deny (`effect`).
 */
function conditionsHold(
  condition: Statement['Condition'],
  keys: RequestContext['keys'],
  effect: Effect,
  unknown: string[],
): boolean {
  if (!condition) return true;
  for (const [rawOperator, block] of Object.entries(condition)) {
    let operator = rawOperator;
    let qualifier: 'ForAnyValue' | 'ForAllValues' | undefined;
    const colon = operator.indexOf(':');
    if (colon > 0) {
      const prefix = operator.slice(0, colon);
      qualifier = prefix === 'ForAnyValue' || prefix === 'ForAllValues' ? prefix : undefined;
      operator = qualifier ? operator.slice(colon + 1) : '';
    }
    const ifExists = operator.endsWith('IfExists');
    if (ifExists) operator = operator.slice(0, -'IfExists'.length);
    // Own keys only: an operator named like an Object.prototype member (`constructor`) is unknown too.
    const test = Object.hasOwn(OPERATORS, operator) ? OPERATORS[operator] : undefined;
    if (!test && operator !== 'Null') {
      unknown.push(rawOperator);
      if (effect === 'Allow') return false;
      continue;
    }
    for (const [key, patterns] of Object.entries(block)) {
      const raw = keys[key.toLowerCase()];
      const values = raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw];
      const absent = values === undefined || values.length === 0;
      if (!test) {
        // Null: `true` asks for the key to be absent, `false` for it to be present.
        const wantsAbsent = patterns.some((p) => p.toLowerCase() === 'true');
        if (wantsAbsent !== absent) return false;
        continue;
      }
      if (absent) {
        // Absent key: false, except ...IfExists, ForAllValues (vacuously true) and the negated operators
        // (ForAnyValue needs a value, whatever the operator).
        if (ifExists || qualifier === 'ForAllValues') continue;
        if (qualifier === undefined && NEGATED.has(operator)) continue;
        return false;
      }
      if (qualifier === 'ForAllValues') {
        if (!values.every((v) => test(patterns, [v]))) return false;
      } else if (!test(patterns, values)) return false;
    }
  }
  return true;
}

interface StatementHit {
  actionPattern?: string;
  resourcePattern?: string;
}

function statementApplies(
  statement: Statement,
  ctx: RequestContext,
  source: PolicySource,
  unknown: string[],
): StatementHit | undefined {
  const hit: StatementHit = {};
  if (statement.Action) {
    const pattern = statement.Action.find((p) => wildcardMatch(p, ctx.action, true));
    if (pattern === undefined) return undefined;
    hit.actionPattern = pattern;
  } else if (statement.NotAction) {
    if (statement.NotAction.some((p) => wildcardMatch(p, ctx.action, true))) return undefined;
  } else return undefined;
  if (statement.Resource) {
    const pattern = statement.Resource.find((p) => wildcardMatch(p, ctx.resource));
    if (pattern === undefined) return undefined;
    hit.resourcePattern = pattern;
  } else if (statement.NotResource) {
    if (statement.NotResource.some((p) => wildcardMatch(p, ctx.resource))) return undefined;
  } else if (source.kind === 'identity') return undefined;
  if (source.kind === 'resource') {
    if (statement.Principal && !principalMatches(statement.Principal, ctx.principal)) return undefined;
    if (statement.NotPrincipal && principalMatches(statement.NotPrincipal, ctx.principal)) return undefined;
    if (!statement.Principal && !statement.NotPrincipal) return undefined;
  }
  if (!conditionsHold(statement.Condition, ctx.keys, statement.Effect, unknown)) return undefined;
  return hit;
}

/**
 * Decides one request. `identity` are the principal's identity-based policies (none for the account's
 * administrator, who is allowed unless a resource policy denies); `resource` the policies of the resource.
 */
export function evaluate(
  ctx: RequestContext,
  identity: readonly PolicySource[],
  resource: readonly PolicySource[],
  administrator = false,
): Decision {
  const unknown: string[] = [];
  let allow: MatchedStatement | undefined;
  for (const source of [...identity, ...resource]) {
    for (const [index, statement] of source.statements.entries()) {
      const unknownHere: string[] = [];
      const hit = statementApplies(statement, ctx, source, unknownHere);
      unknown.push(...unknownHere);
      if (!hit) continue;
      const matched: MatchedStatement = {
        policy: source.name,
        kind: source.kind,
        index,
        ...(statement.Sid ? { sid: statement.Sid } : {}),
        ...hit,
      };
      if (statement.Effect === 'Deny')
        return unknownHere.length > 0
          ? { decision: 'explicitDeny', matched, unknownOperators: unknownHere }
          : { decision: 'explicitDeny', matched };
      if (allow) continue;
      // A resource policy naming only the account delegates to identity policies (same account).
      if (
        source.kind === 'resource' &&
        statement.Principal &&
        !principalNamedExactly(statement.Principal, ctx.principal)
      )
        continue;
      allow = matched;
    }
  }
  if (allow) return { decision: 'allow', matched: allow };
  if (administrator) return { decision: 'allow' };
  return unknown.length > 0
    ? { decision: 'implicitDeny', unknownOperators: unknown }
    : { decision: 'implicitDeny' };
}

/** AWS's denial message, e.g. `User: arn:aws:sts::…:assumed-role/R/S is not authorized to perform: …`. */
export function denialMessage(
  ctx: Pick<RequestContext, 'principal' | 'action' | 'resource'>,
  decision: Decision,
): string {
  const head = `User: ${ctx.principal.arn} is not authorized to perform: ${ctx.action} on resource: ${ctx.resource}`;
  if (decision.decision === 'explicitDeny')
    return `${head} with an explicit deny in ${decision.matched.kind === 'identity' ? 'an identity-based' : 'a resource-based'} policy`;
  return `${head} because no identity-based policy allows the ${ctx.action} action`;
}
