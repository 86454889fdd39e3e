/**
 * Glue for the reliability tests: a `ChaosTarget` from the outputs of whatever target the e2e suite runs
 * against (`test/support/target.ts`: the local cloud by default, LocalStack or AWS by `STEPSAGA_TARGET`).
 */
import { type ChaosTarget, makeTarget, parseOutputs } from '../client/target';

export function chaosTargetFrom(name: string, outputs: Record<string, string>): ChaosTarget {
  return makeTarget(name, parseOutputs(outputs, `${name} outputs`), outputs.Endpoint);
}
