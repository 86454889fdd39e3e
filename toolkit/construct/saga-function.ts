import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, type ILocalBundling, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  type FunctionProps,
  Function as LambdaFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { copyBundle, HandlerBundles } from './saga-function-bundles';

/** The repository root (this file lives in `toolkit/construct/`). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the Lambda handler entry files live (contract `FUNCTIONS[*].entry` is relative to this). */
export const HANDLERS_DIR = path.join(PROJECT_ROOT, 'lambdas', 'handlers');

/** CloudWatch metrics namespace of the Powertools Metrics the functions emit. */
export const METRICS_NAMESPACE = 'StepSaga';

/** One esbuild build for all handlers of the app (see saga-function-bundles.ts). */
const BUNDLES = new HandlerBundles(PROJECT_ROOT, HANDLERS_DIR);

/**
 * CDK local bundling of one handler: a copy of its bundle from the shared build. `entry` is data, not
 * only a closure, because CDK keys its in-process asset cache on the bundling options' JSON.
 */
class HandlerBundling implements ILocalBundling {
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    copyBundle(BUNDLES.directoryOf(path.resolve(PROJECT_ROOT, this.entry)), outputDir);
    return true;
  }
}

export interface SagaFunctionProps
  extends Omit<FunctionProps, 'code' | 'handler' | 'runtime' | 'architecture' | 'logGroup' | 'role'> {
  /**
   * The handler file, absolute or relative to `lambdas/handlers/` (for example `charge-payment.ts`).
   * It must export `handler`.
   */
  readonly entry: string;

  /**
   * The exported handler function of the entry file.
   * @default 'handler'
   */
  readonly handler?: string;

  /**
   * Powertools service name (`POWERTOOLS_SERVICE_NAME`): one value for the whole saga so metrics and
   * traces group together; the function name is on every log line anyway.
   * @default 'stepsaga'
   */
  readonly serviceName?: string;

  /**
   * How long the function's log group keeps its events.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * Powertools log level (`POWERTOOLS_LOG_LEVEL`).
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * A Node.js Lambda function with the saga's defaults:
 *
 * - Node.js 22 on arm64 (Graviton: about 20 % cheaper per GB-second than x86_64);
 * - bundled with the locally installed esbuild (never Docker), one build for all handlers
 *   (`saga-function-bundles.ts`, cached by the content of its inputs), ES module inputs tree-shaken into CommonJS
 *   output, minified, with source maps
 *   (`NODE_OPTIONS=--enable-source-maps`) and `keepNames`, because Step Functions' Catch and Retry match
 *   on `error.name` and a minifier must not rename the error classes;
 * - the AWS SDK v3 bundled into the function (no externals), so the code that runs is the code that was
 *   tested, not whatever SDK version the managed runtime ships this month;
 * - its own log group with a retention period (no `LogRetention` custom resource);
 * - its own role that may only write to that log group; everything else is granted explicitly by the
 *   stack (least privilege, no `AWSLambdaBasicExecutionRole` managed policy);
 * - X-Ray active tracing and the Powertools environment (`POWERTOOLS_SERVICE_NAME`,
 *   `POWERTOOLS_METRICS_NAMESPACE=StepSaga`);
 * - 256 MB and a 5 second timeout, sized for one DynamoDB transaction per invocation.
 */
export class SagaFunction extends LambdaFunction {
  /** The function's execution role (created here, so never undefined). */
  public readonly executionRole: iam.IRole;

  constructor(scope: Construct, id: string, props: SagaFunctionProps) {
    const { serviceName, logRetention, logRemovalPolicy, logLevel, environment, entry, handler, ...rest } =
      props;
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${id} function`,
    });
    const entryPath = path.resolve(HANDLERS_DIR, entry);
    super(scope, id, {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(5),
      tracing: Tracing.ACTIVE,
      ...rest,
      // As NodejsFunction: the asset's hash is the bundle's (output) hash, and bundling is skipped for
      // stacks outside `aws:cdk:bundling-stacks` (template-only synths).
      code: Code.fromAsset(PROJECT_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never used: local bundling always succeeds or throws (esbuild is a devDependency).
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
          local: new HandlerBundling(path.relative(PROJECT_ROOT, entryPath)),
        },
      }),
      handler: `index.${handler ?? 'handler'}`,
      logGroup,
      role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: serviceName ?? 'stepsaga',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: logLevel ?? 'INFO',
        ...environment,
      },
    });
    this.executionRole = role;
    // The role may write only to the function's own log group (CreateLogStream + PutLogEvents).
    logGroup.grantWrite(role);
  }
}
