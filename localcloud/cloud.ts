/**
 * The local cloud: one edge port serving DynamoDB (DynamoDB Local), SQS (local-aws-sqs), Lambda (worker
 * threads), Step Functions (aws-local-stepfunctions) and the REST APIs of a deployed cloud assembly.
 *
 * `startLocalCloud()` boots everything in parallel (the DynamoDB Local JVM is the slow part, so it is
 * spawned first and the rest starts while it boots), then deploys the assembly when one is given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiGatewayService } from './apigateway/service';
import { createConsoleService } from './console/service';
import { type DeployReport, deployAssembly } from './deploy/deploy';
import { DynamoDbLocal, DynamoDbService } from './dynamodb/local';
import { Edge, type EdgeOptions } from './edge';
import { ALLOWED_HOSTS_ENV, parseAllowedHosts } from './hosts';
import { IAM_ENV, IAM_LOG_ENV, IamEnforcer } from './iam/enforcer';
import { LambdaService } from './lambda/service';
import { requireOutput } from './outputs';
import { type LocalCloudPlugin, loadPlugin, type PluginContext, type SeedReport } from './plugin';
import { awsJson, awsJsonError } from './protocol';
import { SqsService } from './sqs/service';
import { loadMockConfig, MOCK_CONFIG_ENV, type MockConfig } from './stepfunctions/mock-config';
import { StepFunctionsService } from './stepfunctions/service';
import { type AwsRequest, type AwsResponse, LOCAL_REGION, type Service } from './types';

export interface LocalCloudOptions {
  /** Edge port; 0 = a random free port. @default 4566 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Host names the edge answers besides localhost, `*.localhost`, the loopback addresses and `host`
   * (e.g. a name in /etc/hosts, a Docker service name; `.example.test` = the domain and its subdomains).
   * The names in `STEPSAGA_ALLOWED_HOSTS` (comma-separated) are added. Any other `Host`, or a web page
   * on another host (`Origin`), gets a 403.
   */
  allowedHosts?: readonly string[];
  /**
   * Keep everything in this directory across restarts (DynamoDB data, Step Functions state machines,
   * executions, histories and task tokens); default: in memory. Seeding then fills only empty tables.
   */
  persistDir?: string;
  /**
   * The cloud assembly directory (`cdk.out`) to deploy; `false` = bare services. A promise lets the caller
   * synthesize while the services boot (the CLI does). @default 'cdk.out'
   */
  assembly?: string | false | Promise<string>;
  /** Run the app config's seed hooks (demo data into the tables that are empty). @default false */
  seed?: boolean;
  /**
   * The app config (`localcloud/plugin.ts`): an object, a file to load, or `false` for none.
   * @default `./stepsaga.config.ts` when the working directory has one
   */
  plugin?: LocalCloudPlugin | string | false;
  /** Multiplies Retry intervals of the state machines (0.01 makes tests fast). @default 1 */
  retryScale?: number;
  /** The account's Lambda concurrency limit (`--lambda-concurrency`). @default 1000 (lambda/limits.ts) */
  lambdaConcurrency?: number;
  /** Scratch directory for Lambda code; default: a fresh temporary directory, removed on close. */
  dataDir?: string;
  /** No log lines on stderr. @default false */
  quiet?: boolean;
  /**
   * A DynamoDB Local the caller spawned already (the CLI starts the JVM before loading the rest of the
   * local cloud, which saves a second of start-up); it is stopped on close like an own one.
   */
  dynamoDbLocal?: DynamoDbLocal;
  /** Called with each Lambda log line (default: printed to stderr unless quiet). */
  onLog?: (functionName: string, line: string) => void;
  /**
   * Mocked service integrations: a mock config file in Step Functions Local's format (a path, or one
   * loaded already with `loadMockConfig`); default: the file named by `SFN_MOCK_CONFIG`, if set. A file
   * that is not valid fails the start before anything is spawned.
   */
  mockConfig?: MockConfig | string;
  /** Called for every request the edge answered (e.g. to see which credentials a client signed with). */
  onRequest?: EdgeOptions['onRequest'];
  /**
   * IAM enforcement: every AWS call is decided against the caller's policies from the deployed template
   * (functions run as their execution role, Tasks as the state machine's role; `test`/`test` and any key
   * the local cloud did not issue are the administrator). @default true, unless `STEPSAGA_IAM=off`
   */
  iam?: boolean;
  /** Append every IAM decision to this file (JSON lines); default: the file `STEPSAGA_IAM_LOG` names. */
  iamLog?: string;
}

export interface LocalCloud {
  /** The edge URL, e.g. `http://127.0.0.1:4566`: use it as `--endpoint-url` / `AWS_ENDPOINT_URL`. */
  endpoint: string;
  consoleUrl: string;
  /** The first REST API's invoke URL (the stack output `ApiUrl`, rewritten to the local cloud). */
  apiUrl?: string;
  /** Stack outputs, plus `Endpoint`, `ConsoleUrl` and `ApiUrl`. */
  outputs: Record<string, string>;
  /** What the deployment created and what it skipped (undefined with `assembly: false`). */
  deployment?: DeployReport;
  /** Milliseconds from `startLocalCloud()` to ready, and of the deployment alone. */
  timings: { readyMs: number; deployMs: number; dynamoDbMs: number };
  edge: Edge;
  /** IAM enforcement (`iam.enabled`), its decisions and the roles it loaded. */
  iam: IamEnforcer;
  services: {
    lambda: LambdaService;
    states: StepFunctionsService;
    dynamodb: DynamoDbService;
    sqs: SqsService;
    apigateway: ApiGatewayService;
  };
  /** What seeding did (`seeded N demo items`, or which tables kept their data), when it ran. */
  seeding?: string;
  /** `--persist`: what was restored from the directory. */
  restored?: string;
  /** Pid of the DynamoDB Local JVM. */
  dynamoDbPid: number | undefined;
  close(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const started = performance.now();
  const log = (line: string) => {
    if (!options.quiet) process.stderr.write(`${line}\n`);
  };

  // Bad host names fail here, before anything is spawned.
  const allowedHosts = [
    ...parseAllowedHosts((options.allowedHosts ?? []).join(','), 'allowedHosts'),
    ...parseAllowedHosts(process.env[ALLOWED_HOSTS_ENV]),
  ];
  // So does a bad mock config file.
  const mockFile = options.mockConfig ?? (process.env[MOCK_CONFIG_ENV] || undefined);
  const mockConfig = typeof mockFile === 'string' ? loadMockConfig(mockFile) : mockFile;
  // And a bad app config.
  const plugin =
    options.plugin === false
      ? {}
      : typeof options.plugin === 'object'
        ? options.plugin
        : await loadPlugin(options.plugin);

  // 1. The JVM first: it is the long pole.
  const dynamoLocal =
    options.dynamoDbLocal ?? new DynamoDbLocal(options.persistDir ? { persistDir: options.persistDir } : {});
  const dynamoReady = dynamoLocal.start();
  dynamoReady.catch(() => undefined);
  if (options.assembly instanceof Promise) options.assembly.catch(() => undefined);
  const dynamodb = new DynamoDbService(dynamoLocal);

  const iamLog = options.iamLog ?? (process.env[IAM_LOG_ENV] || undefined);
  const iam = new IamEnforcer({
    enabled: options.iam ?? process.env[IAM_ENV]?.toLowerCase() !== 'off',
    ...(iamLog ? { logFile: iamLog } : {}),
    log,
  });
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'stepsaga-localcloud-'));
  const edge = new Edge({
    port: options.port ?? 4566,
    host: options.host ?? '127.0.0.1',
    allowedHosts,
    authorize: (req) => iam.authorizeRequest(req),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
  const endpoint = () => edge.endpoint;

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await edge.close();
    await dynamodb.close();
    await iam.close();
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  /** `--persist`: lets the requests held during start-up through (see below). */
  let restoring: (() => void) | undefined;
  try {
    // With --persist, a damaged journal fails here (JournalError names the file and line).
    const sqs = new SqsService(options.persistDir ? { persistDir: options.persistDir } : {});
    const onLog = options.onLog ?? ((fn: string, line: string) => log(`[${fn}] ${line}`));
    const lambda = new LambdaService({
      dataDir,
      ...(options.persistDir ? { persistDir: options.persistDir } : {}),
      endpoint,
      onLog,
      credentialsFor: (roleArn, session) => iam.credentialsFor(roleArn, session),
      ...(options.lambdaConcurrency !== undefined ? { concurrencyLimit: options.lambdaConcurrency } : {}),
    });
    const states = new StepFunctionsService({
      lambda,
      endpoint,
      ...(options.retryScale !== undefined ? { retryScale: options.retryScale } : {}),
      ...(mockConfig ? { mockConfig } : {}),
      ...(options.persistDir ? { persistDir: options.persistDir } : {}),
      iam,
    });
    const apigateway = new ApiGatewayService({
      lambda,
      authorizeInvoke: (functionName, sourceArn) =>
        iam.authorizeServiceInvoke('apigateway.amazonaws.com', lambda.functionArn(functionName), sourceArn)
          .allowed,
    });

    const outputs: Record<string, string> = {};
    let deployment: DeployReport | undefined;
    let ready = false;
    const health: Service = {
      name: 'localcloud',
      handle: async (req: AwsRequest): Promise<AwsResponse> => {
        if (req.path === '/_localcloud/health')
          return awsJson(
            {
              status: ready ? 'ready' : 'starting',
              ...(edge.held > 0 ? { heldRequests: edge.held } : {}),
              endpoint: edge.endpoint,
              processes: { localCloud: process.pid, dynamoDbLocal: dynamoLocal.pid ?? null },
            },
            200,
            'application/json',
          );
        if (req.path === '/_localcloud/outputs') return awsJson(outputs, 200, 'application/json');
        if (req.path === '/_localcloud/iam') return awsJson(iam.summary(), 200, 'application/json');
        if (req.path === '/_localcloud/lambda') return awsJson(lambda.stats(), 200, 'application/json');
        if (req.path === '/_localcloud/deployment')
          return awsJson(deployment ?? null, 200, 'application/json');
        return awsJsonError(404, 'NotFound', `No such local cloud resource: ${req.path}`);
      },
    };
    const consoleService = createConsoleService({
      endpoint,
      outputs: () => outputs,
      plugin,
      onEvent: (listener) => states.onEvent(listener),
    });
    for (const service of [dynamodb, sqs, lambda, states, apigateway, consoleService, health])
      edge.register(service);
    // --persist: clients' Step Functions, SQS and Lambda requests wait until what the last run left is back
    // (see restore below); one served before would land beside it: lost at the next restart, or doubled.
    if (options.persistDir)
      edge.holdUntil(
        [states.name, sqs.name, lambda.name],
        new Promise<void>((resolve) => {
          restoring = resolve;
        }),
      );

    await Promise.all([sqs.start(), edge.listen()]);
    sqs.setPublicEndpoint(edge.endpoint);
    const consoleUrl = `${edge.endpoint}/_console/`;
    outputs.Endpoint = edge.endpoint;
    outputs.ConsoleUrl = consoleUrl;

    // Deploy while the JVM boots: table creation waits for DynamoDB Local at the edge, everything else
    // (functions, state machines, APIs, queues) does not need it.
    let dynamoDbMs = 0;
    const dynamoTimed = dynamoReady.then(() => {
      dynamoDbMs = performance.now() - started;
    });
    let deployMs = 0;
    let seeding: string | undefined;
    const deploying = async () => {
      if (options.assembly === false) return;
      const assemblyDir = await (options.assembly ?? 'cdk.out');
      const deployStarted = performance.now();
      deployment = await deployAssembly({
        assemblyDir,
        endpoint: edge.endpoint,
        lambda,
        states,
        sqs,
        apigateway,
        iam,
      });
      deployMs = performance.now() - deployStarted;
      Object.assign(outputs, deployment.outputs);
      if (deployment.skipped.length > 0)
        log(
          `not emulated (accepted, no effect locally): ${deployment.skipped
            .map((s) => `${s.type} ×${s.logicalIds.length}`)
            .join(', ')}`,
        );
    };
    await Promise.all([dynamoTimed, deploying()]);
    const seeds = (plugin.sagas ?? []).flatMap((saga) => (saga.seed ? [saga.seed] : []));
    if (deployment && options.seed && seeds.length > 0) {
      const context: PluginContext = {
        endpoint: edge.endpoint,
        region: LOCAL_REGION,
        credentials: { accessKeyId: 'localcloud', secretAccessKey: 'localcloud' },
        outputs,
        output: (name) => requireOutput(outputs, name),
      };
      const report: SeedReport = { counts: {}, kept: [] };
      for (const seed of seeds) {
        const one = await seed(context);
        Object.assign(report.counts, one.counts);
        report.kept.push(...one.kept);
      }
      const items = Object.values(report.counts).reduce((a, b) => a + b, 0);
      seeding =
        report.kept.length === 0
          ? `seeded ${items} demo items`
          : `kept the data of ${report.kept.join(', ')} (not seeded: tables not empty)${items > 0 ? `, seeded ${items} demo items` : ''}`;
      log(seeding);
    }
    let restored: string | undefined;
    if (options.persistDir) {
      // The functions are deployed and the tables are up: what the last run left goes on, with a warm
      // container per function (a take-over on AWS finds Lambda's environments as they were). The queues
      // first: what a continuing execution sends lands after their messages. Then the functions created
      // through the Lambda API (a continuing execution may call one).
      const { messages } = await sqs.restore();
      const { functions } = await lambda.restore();
      if (states.toTakeOver > 0) await lambda.prewarm();
      const { running, closed } = states.restore();
      restored =
        running + closed + messages + functions > 0
          ? `restored ${running + closed} executions (${running} continuing) and ${messages} SQS messages${functions > 0 ? ` (and ${functions} function${functions === 1 ? '' : 's'} created through the Lambda API)` : ''} from ${options.persistDir}`
          : `persisting to ${options.persistDir}`;
      log(restored);
      restoring?.();
    }
    ready = true;
    const cloud: LocalCloud = {
      ...(restored ? { restored } : {}),
      ...(seeding ? { seeding } : {}),
      endpoint: edge.endpoint,
      consoleUrl,
      outputs,
      timings: { readyMs: performance.now() - started, deployMs, dynamoDbMs },
      edge,
      iam,
      services: { lambda, states, dynamodb, sqs, apigateway },
      dynamoDbPid: dynamoLocal.pid,
      close,
      ...(deployment ? { deployment } : {}),
      ...(outputs.ApiUrl ? { apiUrl: outputs.ApiUrl } : {}),
    };
    return cloud;
  } catch (error) {
    restoring?.();
    await close().catch(() => undefined);
    throw error;
  }
}
