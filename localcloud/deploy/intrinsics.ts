/**
 * CloudFormation intrinsic functions, resolved against what the local deployment created: `Ref`,
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` (string and list forms), `Fn::Select`, `Fn::Split`, `Fn::If` with
 * `Conditions` (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`), `Fn::FindInMap`,
 * `Fn::Base64`, `Fn::GetAZs`, `Fn::ToJsonString`, pseudo parameters and `AWS::NoValue`.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../types';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a created (or merely recorded) resource answers to `Ref` and `Fn::GetAtt`. */
export interface PhysicalResource {
  ref: string;
  attributes: Record<string, Json>;
  /** A resource the local cloud does not emulate: any attribute resolves (to its ref) so references hold. */
  placeholder?: boolean;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Marker for `AWS::NoValue` (the property is removed). */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
type Resolved = Json | typeof NO_VALUE;

export interface ResolverContext {
  stackName: string;
  region?: string;
  accountId?: string;
  parameters: Record<string, Json>;
  conditions: Record<string, Json>;
  mappings: Record<string, Json>;
  /** Resources created so far, by logical id. */
  resources: Map<string, PhysicalResource>;
}

export function pseudoParameters(ctx: ResolverContext): Record<string, string> {
  const region = ctx.region ?? LOCAL_REGION;
  const accountId = ctx.accountId ?? LOCAL_ACCOUNT_ID;
  return {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': ctx.stackName,
    'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${ctx.stackName}/00000000-0000-0000-0000-000000000000`,
    'AWS::NotificationARNs': '',
  };
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: Resolved, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

function asList(value: Resolved, where: string): Json[] {
  if (Array.isArray(value)) return value;
  throw new TemplateError(`${where}: expected a list, got ${JSON.stringify(value)}`);
}

export class Resolver {
  private readonly pseudo: Record<string, string>;
  private readonly conditionCache = new Map<string, boolean>();

  constructor(private readonly ctx: ResolverContext) {
    this.pseudo = pseudoParameters(ctx);
  }

  /** Resolves every intrinsic in `value`; properties set to `AWS::NoValue` disappear. */
  resolve(value: Json): Json {
    const out = this.walk(value);
    return out === NO_VALUE ? null : out;
  }

  /** Evaluates a named condition of the template's `Conditions` section. */
  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const expression = this.ctx.conditions[name];
    if (expression === undefined) throw new TemplateError(`Unknown condition ${name}`);
    const result = this.evaluateCondition(expression);
    this.conditionCache.set(name, result);
    return result;
  }

  /** Logical ids a value refers to (for the dependency order). */
  static references(value: Json, out = new Set<string>()): Set<string> {
    if (Array.isArray(value)) {
      for (const item of value) Resolver.references(item, out);
    } else if (isObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === 'Ref' && typeof value.Ref === 'string') {
        if (!value.Ref.startsWith('AWS::')) out.add(value.Ref);
      } else if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
        const arg = value['Fn::GetAtt'];
        const id = Array.isArray(arg) ? arg[0] : typeof arg === 'string' ? arg.split('.')[0] : undefined;
        if (typeof id === 'string') out.add(id);
      } else if (keys.length === 1 && keys[0] === 'Fn::Sub') {
        const arg = value['Fn::Sub'];
        const [template, vars] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
        if (typeof template === 'string') {
          for (const match of template.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            const name = (match[1] ?? '').split('.')[0] ?? '';
            if (!name.startsWith('AWS::') && !(isObject(vars) && name in vars)) out.add(name);
          }
        }
        if (vars !== undefined) Resolver.references(vars, out);
      } else {
        for (const item of Object.values(value)) Resolver.references(item, out);
      }
    }
    return out;
  }

  private walk(value: Json): Resolved {
    if (Array.isArray(value)) {
      return value.map((v) => this.walk(v)).filter((v): v is Json => v !== NO_VALUE);
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const key = keys[0];
    if (
      keys.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition')
    ) {
      return this.intrinsic(key, value[key] as Json);
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = this.walk(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private ref(name: string): Json {
    if (name === 'AWS::NoValue') throw new TemplateError('AWS::NoValue outside a property');
    const pseudo = this.pseudo[name];
    if (pseudo !== undefined) return pseudo;
    if (name in this.ctx.parameters) return this.ctx.parameters[name] as Json;
    const resource = this.ctx.resources.get(name);
    if (!resource)
      throw new TemplateError(`Ref to ${name}, which is neither a parameter nor a created resource`);
    return resource.ref;
  }

  private getAtt(id: string, attribute: string): Json {
    const resource = this.ctx.resources.get(id);
    if (!resource) throw new TemplateError(`Fn::GetAtt ${id}.${attribute}: no such resource created`);
    const value = resource.attributes[attribute] ?? (resource.placeholder ? resource.ref : undefined);
    if (value === undefined)
      throw new TemplateError(`Fn::GetAtt ${id}.${attribute}: the local cloud has no attribute ${attribute}`);
    return value;
  }

  private sub(template: string, vars: Record<string, Json>): string {
    return template.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in vars) return asString(vars[name] as Json, `Fn::Sub \${${name}}`);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::'))
        return asString(this.getAtt(name.slice(0, dot), name.slice(dot + 1)), `Fn::Sub \${${name}}`);
      return asString(this.ref(name), `Fn::Sub \${${name}}`);
    });
  }

  private intrinsic(name: string, arg: Json): Resolved {
    switch (name) {
      case 'Ref': {
        if (arg === 'AWS::NoValue') return NO_VALUE;
        return this.ref(asString(arg, 'Ref'));
      }
      case 'Fn::GetAtt': {
        const [id, ...rest] = Array.isArray(arg)
          ? arg.map((a) => asString(this.walk(a), 'Fn::GetAtt'))
          : asString(arg, 'Fn::GetAtt').split('.');
        if (!id || rest.length === 0)
          throw new TemplateError(`Fn::GetAtt: bad argument ${JSON.stringify(arg)}`);
        return this.getAtt(id, rest.join('.'));
      }
      case 'Fn::Join': {
        const [delimiter, list] = asList(arg, 'Fn::Join');
        const items = asList(this.walk(list as Json), 'Fn::Join');
        return items.map((i) => asString(i, 'Fn::Join item')).join(asString(delimiter ?? '', 'Fn::Join'));
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return this.sub(arg, {});
        const [template, vars] = asList(arg, 'Fn::Sub');
        const resolvedVars = this.walk(vars ?? {});
        if (!isObject(resolvedVars)) throw new TemplateError('Fn::Sub: the variables must be an object');
        return this.sub(asString(template ?? '', 'Fn::Sub'), resolvedVars);
      }
      case 'Fn::Select': {
        const [index, list] = asList(arg, 'Fn::Select');
        const i = Number(asString(this.walk(index ?? 0), 'Fn::Select index'));
        const items = asList(this.walk(list ?? []), 'Fn::Select');
        if (!Number.isInteger(i) || i < 0 || i >= items.length)
          throw new TemplateError(`Fn::Select: index ${i} out of range (${items.length} items)`);
        return items[i] as Json;
      }
      case 'Fn::Split': {
        const [delimiter, source] = asList(arg, 'Fn::Split');
        return asString(this.walk(source ?? ''), 'Fn::Split').split(asString(delimiter ?? '', 'Fn::Split'));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = asList(arg, 'Fn::If');
        const chosen = this.condition(asString(condition ?? '', 'Fn::If')) ? whenTrue : whenFalse;
        return this.walk(chosen ?? null);
      }
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
      case 'Condition':
        return this.evaluateCondition({ [name]: arg });
      case 'Fn::FindInMap': {
        const [map, top, second] = asList(this.walk(arg), 'Fn::FindInMap').map((k) =>
          asString(k, 'Fn::FindInMap'),
        );
        const value = (this.ctx.mappings[map ?? ''] as Record<string, Record<string, Json>> | undefined)?.[
          top ?? ''
        ]?.[second ?? ''];
        if (value === undefined) throw new TemplateError(`Fn::FindInMap: ${map}.${top}.${second} not found`);
        return value;
      }
      case 'Fn::Base64':
        return Buffer.from(asString(this.walk(arg), 'Fn::Base64')).toString('base64');
      case 'Fn::GetAZs': {
        const region = this.pseudo['AWS::Region'];
        return [`${region}a`, `${region}b`, `${region}c`];
      }
      case 'Fn::ToJsonString':
        return JSON.stringify(this.resolve(arg));
      default:
        throw new TemplateError(`The local cloud does not support the intrinsic ${name}`);
    }
  }

  private evaluateCondition(expression: Json): boolean {
    if (typeof expression === 'boolean') return expression;
    if (!isObject(expression)) throw new TemplateError(`Bad condition ${JSON.stringify(expression)}`);
    const [name] = Object.keys(expression);
    const arg = expression[name ?? ''] as Json;
    switch (name) {
      case 'Condition':
        return this.condition(asString(arg, 'Condition'));
      case 'Fn::Equals': {
        const [a, b] = asList(arg, 'Fn::Equals').map((v) => this.walk(v));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::And':
        return asList(arg, 'Fn::And').every((c) => this.evaluateCondition(c));
      case 'Fn::Or':
        return asList(arg, 'Fn::Or').some((c) => this.evaluateCondition(c));
      case 'Fn::Not':
        return !this.evaluateCondition(asList(arg, 'Fn::Not')[0] ?? false);
      default:
        throw new TemplateError(`Bad condition function ${name}`);
    }
  }
}
