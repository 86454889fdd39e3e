/**
 * The `States.*` intrinsic functions of JSONPath states (`"key.$": "States.Format('{}', $.name)"`).
 * (Placeholder: being written.)
 */
import { type JsonValue, runtimeError } from './types';

/** True for a `States.*` intrinsic function call (a payload template value or an `Assign` value). */
export function isIntrinsic(expression: string): boolean {
  return expression.startsWith('States.');
}

/**
 * Evaluates an intrinsic function call. Path arguments (`$.a`, `$$.Execution.Id`, `$var.x`) are read
 * with `resolvePath`, which raises the field's own error when a path selects nothing.
 */
export function evaluateIntrinsic(expression: string, resolvePath: (path: string) => JsonValue): JsonValue {
  void resolvePath;
  throw runtimeError(`intrinsic functions are not implemented yet: ${expression}`);
}
