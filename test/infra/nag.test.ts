import { Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext, createApp } from '../../lib/app';
import type { OrderSagaStack } from '../../lib/order-saga-stack';

const VARIANTS: Record<string, Record<string, string>> = {
  dev: { stage: 'dev', faults: 'on' },
  prod: { stage: 'prod' },
  'prod+express': { stage: 'prod', express: 'true' },
  'dev+cors': { stage: 'dev', corsOrigin: 'https://console.example.com' },
};

/** Runs AwsSolutions on the synthesized app; returns "rule @ construct path" for each finding. */
function findings(context: Record<string, string>, mutate?: (stack: OrderSagaStack) => void) {
  const { app, stack } = createApp({
    context: { ...cdkJsonContext(), ...context, 'aws:cdk:bundling-stacks': [] },
  });
  mutate?.(stack);
  app.synth();
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} @ ${r.constructPath}`),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it.each(Object.keys(VARIANTS))('%s: no unacknowledged error or warning', (variant) => {
    expect(findings(VARIANTS[variant]!)).toEqual([]);
  });

  it('every acknowledgement carries a specific reason', () => {
    const { stack } = createApp({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const reasons = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.values(m.data as Record<string, string>));

    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(60);
  });

  it('still reports a new, unacknowledged problem (the check is live)', () => {
    const result = findings(VARIANTS.dev!, (stack) => {
      new Queue(stack, 'UnencryptedQueue', { enforceSSL: false });
    });

    expect(result.some((f) => f.includes('AwsSolutions-SQS4') && f.includes('UnencryptedQueue'))).toBe(true);
  });
});
