import { Template } from 'aws-cdk-lib/assertions';
import { cdkJsonContext, createApp, type StepSagaApp } from '../../lib/app';

/**
 * Builds the app as the CLI does (cdk.json context: feature flags) for the given context, without Lambda bundling (template tests never need the bundles;
 * `npm run synth` bundles for real). One call per test file, in `beforeAll`.
 */
export function synthOrderSaga(context: Record<string, string> = {}): StepSagaApp & { template: Template } {
  const built = createApp({ context: { ...cdkJsonContext(), ...context, 'aws:cdk:bundling-stacks': [] } });
  return { ...built, template: Template.fromStack(built.stack) };
}

export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next: string; Variable?: string; IsPresent?: boolean }[];
  Resource?: string;
  TimeoutSeconds?: number;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  ResultSelector?: Record<string, unknown>;
  Retry?: {
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
    MaxDelaySeconds?: number;
    JitterStrategy?: string;
  }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Error?: string;
  ErrorPath?: string;
  CausePath?: string;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

/**
 * The state machine definition of a template, parsed: `Fn::GetAtt [X, Arn]` becomes `arn:X` and
 * `Ref X` becomes `ref:X`, so a Task's Resource names the logical id of the function it invokes.
 */
export function stateMachineDefinition(template: Template): AslDefinition {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definition: unknown = machines[0]!.Properties.DefinitionString;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (part && typeof part === 'object') {
      const o = part as Record<string, unknown>;
      if (Array.isArray(o['Fn::GetAtt'])) return `arn:${String(o['Fn::GetAtt'][0])}`;
      if (typeof o.Ref === 'string') return `ref:${o.Ref}`;
    }
    throw new Error(`unexpected definition fragment ${JSON.stringify(part)}`);
  };
  if (typeof definition === 'string') return JSON.parse(definition) as AslDefinition;
  const join = (definition as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return JSON.parse(join[1].map(render).join(join[0])) as AslDefinition;
}

/** The state's successors (Next, Choice branches, Default, Catch targets). */
export function successors(state: AslState): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Default ? [state.Default] : []),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

/** Logical id of the resource a Task invokes (`arn:<LogicalId>`), or the raw Resource. */
export function invokedLogicalId(state: AslState | undefined): string | undefined {
  return state?.Resource?.startsWith('arn:') ? state.Resource.slice(4) : state?.Resource;
}
