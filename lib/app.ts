import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, type AppProps, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from '../toolkit/construct/saga-function';
import { LOCAL_REVIEW_TIMEOUT_SECONDS, type Stage, stackName } from './contract';
import { OrderSagaStack, REVIEW_DEFAULTS } from './order-saga-stack';
import { transferStackName } from './transfer-contract';
import { TransferSagaStack } from './transfer-saga-stack';

/** Context keys the app reads (`cdk synth -c key=value`). */
export interface StepSagaContext {
  /** `dev` (default) or `prod`. */
  readonly stage?: string;
  /** `on` enables fault injection (STEPSAGA_FAULTS=on). */
  readonly faults?: string;
  /** `true` synthesizes an Express workflow. */
  readonly express?: string;
  /** `true` runs cdk-nag (AwsSolutions) during synth. */
  readonly nag?: string;
  /** API stage throttling. */
  readonly throttlingRateLimit?: string;
  readonly throttlingBurstLimit?: string;
  /** CORS origin; no CORS without it. */
  readonly corsOrigin?: string;
  /** SNS topic ARN for alarm notifications. */
  readonly alarmTopicArn?: string;
  /**
   * `true` creates the region's API Gateway CloudWatch Logs role and sets it in the account
   * (`AWS::ApiGateway::Account`). Off by default: that setting is one per account and region, so a
   * stack must not silently take it over from whoever manages it (docs/operations.md, "First deploy").
   */
  readonly apiGatewayCloudWatchRole?: string;
  /** Orders whose total (minor units) reaches this wait for a review. Default 100000. */
  readonly reviewThreshold?: string;
  /**
   * Seconds an order waits for its review. Default 24 hours; a stack with `faults=on` (the local cloud of
   * `npm start`) defaults to {@link LOCAL_REVIEW_TIMEOUT_SECONDS}. The tests, benchmarks and the chaos
   * tool pass a short one (`TEST_REVIEW_TIMEOUT_SECONDS`, stepsaga.config.ts `testSynthContext`).
   */
  readonly reviewTimeout?: string;
}

export interface StepSagaApp {
  readonly app: App;
  readonly stack: OrderSagaStack;
  /** The money transfer saga, `TransferSaga-<stage>`: the second saga built from the toolkit. */
  readonly transfer: TransferSagaStack;
  /** The cdk-nag pack, when context `nag=true`. */
  readonly nag?: AwsSolutionsChecks;
}

function context(app: App, key: keyof StepSagaContext): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

function flag(app: App, key: keyof StepSagaContext, on: string): boolean {
  const value = context(app, key);
  return value !== undefined && value.toLowerCase() === on;
}

function positiveInt(app: App, key: keyof StepSagaContext, fallback: number): number {
  const value = context(app, key);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`context ${key} must be a positive integer, got '${value}'`);
  }
  return n;
}

/**
 * The context of `cdk.json` (feature flags and defaults). The CDK CLI passes it to `bin/app.ts` itself;
 * scripts and tests that build the app in-process merge it in so they synthesize the same template.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * Builds the stepsaga app from context: the `OrderSaga-<stage>` and `TransferSaga-<stage>` stacks for the given stage, and cdk-nag when
 * asked. `bin/app.ts`, `scripts/nag.ts` and the tests all use this one function.
 */
export function createApp(props: AppProps = {}): StepSagaApp {
  const app = new App(props);
  const stageValue = context(app, 'stage') ?? 'dev';
  if (stageValue !== 'dev' && stageValue !== 'prod') {
    throw new Error(`context stage must be 'dev' or 'prod', got '${stageValue}'`);
  }
  const stage: Stage = stageValue;
  const faultsValue = context(app, 'faults');
  if (faultsValue !== undefined && faultsValue !== 'on' && faultsValue !== 'off') {
    throw new Error(`context faults must be 'on' or 'off', got '${faultsValue}'`);
  }
  if (faultsValue === 'on' && stage === 'prod') {
    throw new Error('context faults=on is for dev stages only: fault injection must never reach prod');
  }
  const corsOrigin = context(app, 'corsOrigin');
  const alarmTopicArn = context(app, 'alarmTopicArn');
  const stack = new OrderSagaStack(app, stackName(stage), {
    description: `stepsaga order saga (${stage})`,
    stage,
    faults: faultsValue === 'on',
    express: flag(app, 'express', 'true'),
    throttlingRateLimit: positiveInt(app, 'throttlingRateLimit', 50),
    throttlingBurstLimit: positiveInt(app, 'throttlingBurstLimit', 100),
    ...(corsOrigin ? { corsOrigin } : {}),
    ...(alarmTopicArn ? { alarmTopicArn } : {}),
    apiGatewayCloudWatchRole: flag(app, 'apiGatewayCloudWatchRole', 'true'),
    reviewThreshold: positiveInt(app, 'reviewThreshold', REVIEW_DEFAULTS.threshold),
    reviewTimeout: Duration.seconds(
      positiveInt(
        app,
        'reviewTimeout',
        faultsValue === 'on' ? LOCAL_REVIEW_TIMEOUT_SECONDS : REVIEW_DEFAULTS.timeout.toSeconds(),
      ),
    ),
    tags: { project: 'stepsaga', stage },
  });
  const transfer = new TransferSagaStack(app, transferStackName(stage), {
    description: `stepsaga money transfer saga (${stage})`,
    prod: stage === 'prod',
    faults: faultsValue === 'on',
    tags: { project: 'stepsaga', stage },
  });
  if (!flag(app, 'nag', 'true')) return { app, stack, transfer };
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  return { app, stack, transfer, nag };
}
