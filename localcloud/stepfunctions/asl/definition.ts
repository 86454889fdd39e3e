/**
 * The typed shape of an Amazon States Language definition, as the interpreter reads it after
 * `validate.ts` accepted it. Fields keep their ASL names. A state's `QueryLanguage` (or the machine's)
 * says whether its fields are JSONPath (`InputPath`, `Parameters`, `ResultSelector`, `ResultPath`,
 * `OutputPath`, `*Path`) or JSONata (`Arguments`, `Output`, `Condition`, `Items`, `{% %}` values).
 */
import type { JsonObject, JsonValue } from './types';

export type QueryLanguage = 'JSONPath' | 'JSONata';

export interface StateMachineDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
  Version?: string;
  QueryLanguage?: QueryLanguage;
}

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
  Output?: JsonValue;
  Assign?: JsonObject;
  Comment?: string;
}

interface StateBase {
  Type: string;
  Comment?: string;
  QueryLanguage?: QueryLanguage;
  Next?: string;
  End?: boolean;
  InputPath?: string | null;
  OutputPath?: string | null;
  Assign?: JsonObject;
  Output?: JsonValue;
}

export interface PassState extends StateBase {
  Type: 'Pass';
  Result?: JsonValue;
  ResultPath?: string | null;
  Parameters?: JsonValue;
}

export interface TaskState extends StateBase {
  Type: 'Task';
  Resource: string;
  Parameters?: JsonValue;
  Arguments?: JsonValue;
  ResultSelector?: JsonValue;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
  TimeoutSeconds?: number | string;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number | string;
  HeartbeatSecondsPath?: string;
  Credentials?: JsonValue;
}

export interface ChoiceRule {
  Variable?: string;
  Condition?: string;
  Next?: string;
  And?: ChoiceRule[];
  Or?: ChoiceRule[];
  Not?: ChoiceRule;
  Assign?: JsonObject;
  Output?: JsonValue;
  Comment?: string;
  [operator: string]: JsonValue | ChoiceRule | ChoiceRule[] | undefined;
}

export interface ChoiceState extends StateBase {
  Type: 'Choice';
  Choices: ChoiceRule[];
  Default?: string;
}

export interface WaitState extends StateBase {
  Type: 'Wait';
  Seconds?: number | string;
  Timestamp?: string;
  SecondsPath?: string;
  TimestampPath?: string;
}

export interface SucceedState extends StateBase {
  Type: 'Succeed';
}

export interface FailState extends StateBase {
  Type: 'Fail';
  Error?: string;
  Cause?: string;
  ErrorPath?: string;
  CausePath?: string;
}

export interface ParallelState extends StateBase {
  Type: 'Parallel';
  Branches: StateMachineDefinition[];
  Parameters?: JsonValue;
  Arguments?: JsonValue;
  ResultSelector?: JsonValue;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export interface ItemProcessor extends StateMachineDefinition {
  ProcessorConfig?: { Mode?: 'INLINE' | 'DISTRIBUTED'; ExecutionType?: 'STANDARD' | 'EXPRESS' };
}

export interface MapState extends StateBase {
  Type: 'Map';
  ItemProcessor?: ItemProcessor;
  /** The deprecated name of ItemProcessor (inline only). */
  Iterator?: ItemProcessor;
  ItemsPath?: string;
  Items?: JsonValue;
  ItemSelector?: JsonValue;
  /** The deprecated name of ItemSelector. */
  Parameters?: JsonValue;
  ItemReader?: JsonObject;
  ItemBatcher?: JsonObject;
  ResultWriter?: JsonObject;
  MaxConcurrency?: number | string;
  MaxConcurrencyPath?: string;
  ToleratedFailureCount?: number | string;
  ToleratedFailureCountPath?: string;
  ToleratedFailurePercentage?: number | string;
  ToleratedFailurePercentagePath?: string;
  Label?: string;
  ResultSelector?: JsonValue;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export type State =
  | PassState
  | TaskState
  | ChoiceState
  | WaitState
  | SucceedState
  | FailState
  | ParallelState
  | MapState;
