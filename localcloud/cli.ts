/**
 * `npm start`: synthesize (when needed), boot the local cloud, deploy the assembly, load the demo data,
 * print one `ready` line and write `.stepsaga/outputs.json`. Ctrl-C / SIGTERM stops everything it started.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { LocalCloud } from './cloud';
import { DynamoDbLocal } from './dynamodb/local';
import { ALLOWED_HOSTS_ENV, parseAllowedHosts } from './hosts';
import { DEFAULT_OUTPUTS_FILE, writeOutputs } from './outputs';
import { DEFAULT_CONFIG_FILE, type LocalCloudPlugin, loadPlugin } from './plugin';
import { loadMockConfig, MOCK_CONFIG_ENV, type MockConfig } from './stepfunctions/mock-config';
import { staleReason, synthesize } from './synth';

const HELP = `Usage: npm start -- [options]

Runs the synthesized CDK app (cdk.out, with the app config's synthContext) on one AWS-compatible endpoint.

Options:
  --port N          edge port (default 4566; 0 = any free port)
  --persist DIR     keep DynamoDB data, state machines, executions with their history, task tokens and
                    SQS queues and messages in DIR across restarts, kill -9 included (default: in
                    memory); running executions continue; seeds only empty tables
  --no-seed         do not load the demo data (seed/demo.json)
  --retry-scale X   multiply state machine Retry intervals by X (e.g. 0.01 for fast demos; default 1)
  --lambda-concurrency N
                    the account's Lambda concurrency limit: synchronous invocations beyond it are
                    throttled (TooManyRequestsException), as on AWS (default 1000, AWS's quota)
  --assembly DIR    the cloud assembly to deploy (default cdk.out; synthesized from cdk.json's app when
                    missing, older than the sources or synthesized with other context)
  --no-synth        never synthesize, deploy the assembly as it is
  --outputs FILE    where to write the outputs (default: the app config's outputsFile, else ${DEFAULT_OUTPUTS_FILE})
  --config FILE     the app config: seeding and console extras (default ./${DEFAULT_CONFIG_FILE} if present)
  --allowed-hosts A,B
                    also answer requests for these host names, any port (built in: localhost,
                    *.localhost, 127.x.y.z, [::1]; .example.test = a domain and its subdomains;
                    ${ALLOWED_HOSTS_ENV}=A,B adds more)
  --mock-config FILE
                    mocked service integrations: a mock config in Step Functions Local's format
                    (default: the file ${MOCK_CONFIG_ENV} names); run a test case with
                    StartExecution on <stateMachineArn>#<TestCase>
  --iam on|off      enforce the stack's IAM policies on every AWS call (default on; STEPSAGA_IAM=off
                    disables it): functions run as their execution role, Tasks as the state machine's
                    role; test/test and any key the local cloud did not issue are the administrator
  --iam-log FILE    append every IAM decision to FILE as JSON lines (STEPSAGA_IAM_LOG=FILE too);
                    npm run iam-report -- FILE lists unexercised grants and denials per role
  --quiet           no function logs
  --help            this text

Then: AWS_ENDPOINT_URL=<endpoint> aws stepfunctions list-state-machines, npm run order -- ..., the console URL.`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliOptions {
  port: number;
  persistDir?: string;
  seed: boolean;
  retryScale?: number;
  /** `--lambda-concurrency`: the account's Lambda concurrency limit. */
  lambdaConcurrency?: number;
  assembly: string;
  synth: boolean;
  /** `--outputs FILE`; undefined: the app config's `outputsFile`, else the default. */
  outputsFile?: string;
  /** `--config FILE`; undefined: `./stepsaga.config.ts` when present. */
  configFile?: string;
  /** `--allowed-hosts` (the names in STEPSAGA_ALLOWED_HOSTS are added by startLocalCloud). */
  allowedHosts: string[];
  /** `--mock-config FILE` or `SFN_MOCK_CONFIG`, loaded and checked. */
  mockConfig?: MockConfig;
  quiet: boolean;
  help: boolean;
  /** `--iam on|off` (undefined: STEPSAGA_IAM, else on). */
  iam?: boolean;
  /** `--iam-log FILE`. */
  iamLog?: string;
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        persist: { type: 'string' },
        'no-seed': { type: 'boolean' },
        'retry-scale': { type: 'string' },
        'lambda-concurrency': { type: 'string' },
        assembly: { type: 'string' },
        'no-synth': { type: 'boolean' },
        outputs: { type: 'string' },
        config: { type: 'string' },
        'allowed-hosts': { type: 'string', multiple: true },
        'mock-config': { type: 'string' },
        iam: { type: 'string' },
        'iam-log': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${HELP}`);
  }
  const { values } = parsed;
  const port = values.port === undefined ? 4566 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be an integer from 0 to 65535, got '${values.port}'`);
  let retryScale: number | undefined;
  if (values['retry-scale'] !== undefined) {
    retryScale = Number(values['retry-scale']);
    if (!Number.isFinite(retryScale) || retryScale < 0)
      throw new UsageError(`--retry-scale must be a number ≥ 0, got '${values['retry-scale']}'`);
  }
  let lambdaConcurrency: number | undefined;
  if (values['lambda-concurrency'] !== undefined) {
    lambdaConcurrency = Number(values['lambda-concurrency']);
    if (!Number.isInteger(lambdaConcurrency) || lambdaConcurrency < 1)
      throw new UsageError(
        `--lambda-concurrency must be a positive integer, got '${values['lambda-concurrency']}'`,
      );
  }
  let allowedHosts: string[];
  try {
    allowedHosts = parseAllowedHosts(values['allowed-hosts']?.join(','), '--allowed-hosts');
    parseAllowedHosts(env[ALLOWED_HOSTS_ENV]); // checked here, before anything starts; read by startLocalCloud
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // Checked here too, before anything starts: a bad file names its problems and nothing runs.
  const mockFile = values['mock-config'] ?? (env[MOCK_CONFIG_ENV] || undefined);
  let mockConfig: MockConfig | undefined;
  try {
    mockConfig = mockFile === undefined ? undefined : loadMockConfig(mockFile);
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}${values['mock-config'] === undefined ? ` (from ${MOCK_CONFIG_ENV})` : ''}`,
    );
  }
  if (values.iam !== undefined && values.iam !== 'on' && values.iam !== 'off')
    throw new UsageError(`--iam must be on or off, got '${values.iam}'`);
  return {
    ...(values.iam !== undefined ? { iam: values.iam === 'on' } : {}),
    ...(values['iam-log'] !== undefined ? { iamLog: values['iam-log'] } : {}),
    port,
    allowedHosts,
    seed: !values['no-seed'],
    assembly: values.assembly ?? 'cdk.out',
    synth: !values['no-synth'],
    ...(values.outputs !== undefined ? { outputsFile: values.outputs } : {}),
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    quiet: values.quiet === true,
    help: values.help === true,
    ...(values.persist !== undefined ? { persistDir: values.persist } : {}),
    ...(retryScale !== undefined ? { retryScale } : {}),
    ...(lambdaConcurrency !== undefined ? { lambdaConcurrency } : {}),
    ...(mockConfig ? { mockConfig } : {}),
  };
}

function explain(error: unknown, options: CliOptions): string {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE')
    return `Port ${options.port} is already in use (another local cloud or LocalStack?). Stop it, or pick another port: npm start -- --port 4567`;
  return err instanceof Error ? err.message : String(error);
}

export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  // The JVM is the long pole (about 3 s to its first answer): spawn it before loading the app config and
  // the rest of the local cloud (about a second of module loading on a small machine).
  const dynamoDbLocal = new DynamoDbLocal(options.persistDir ? { persistDir: options.persistDir } : {});
  dynamoDbLocal.start().catch(() => undefined);
  let plugin: LocalCloudPlugin;
  try {
    plugin = await loadPlugin(options.configFile);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await dynamoDbLocal.stop();
    return 2;
  }
  const context = plugin.synthContext ?? {};
  const reason = options.synth ? staleReason(options.assembly, { context }) : undefined;
  if (reason) process.stderr.write(`synthesizing (${reason})...\n`);
  const assembly = reason ? synthesize(options.assembly, context) : Promise.resolve(options.assembly);
  const outputsFile = options.outputsFile ?? plugin.outputsFile ?? DEFAULT_OUTPUTS_FILE;

  let cloud: LocalCloud | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping the local cloud...\n`);
    await cloud?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    const { startLocalCloud } = await import('./cloud');
    cloud = await startLocalCloud({
      dynamoDbLocal,
      port: options.port,
      assembly,
      seed: options.seed,
      plugin,
      quiet: options.quiet,
      allowedHosts: options.allowedHosts,
      ...(options.iam !== undefined ? { iam: options.iam } : {}),
      ...(options.iamLog !== undefined ? { iamLog: options.iamLog } : {}),
      ...(options.persistDir ? { persistDir: options.persistDir } : {}),
      ...(options.retryScale !== undefined ? { retryScale: options.retryScale } : {}),
      ...(options.lambdaConcurrency !== undefined ? { lambdaConcurrency: options.lambdaConcurrency } : {}),
      ...(options.mockConfig ? { mockConfig: options.mockConfig } : {}),
      ...(options.quiet ? { onLog: () => undefined } : {}),
    });
  } catch (error) {
    process.stderr.write(`local cloud failed to start: ${explain(error, options)}\n`);
    return 1;
  }
  const outputs = {
    ApiUrl: cloud.apiUrl ?? '',
    ConsoleUrl: cloud.consoleUrl,
    Endpoint: cloud.endpoint,
    ...cloud.outputs,
  };
  writeOutputs(outputsFile, outputs);
  const sinceCommand = performance.now() / 1000;
  const extraHosts = cloud.edge.hosts.configured;
  const mocks = cloud.services.states.mockConfig;
  const iam = cloud.iam.enabled
    ? `IAM enforced (${cloud.iam.listRoles().length} roles${cloud.iam.logFile ? `, decisions in ${cloud.iam.logFile}` : ''})`
    : `IAM not enforced (${options.iam === false ? '--iam off' : 'STEPSAGA_IAM=off'})`;
  process.stdout.write(
    `ready in ${sinceCommand.toFixed(1)}s  API ${outputs.ApiUrl || '(none)'}  console ${cloud.consoleUrl}  endpoint ${cloud.endpoint}  (DynamoDB Local ${(cloud.timings.dynamoDbMs / 1000).toFixed(1)}s, deploy ${(cloud.timings.deployMs / 1000).toFixed(1)}s in parallel; ${iam}; ${cloud.seeding ? `${cloud.seeding}; ` : ''}${cloud.restored ? `${cloud.restored}; ` : ''}outputs ${outputsFile}${extraHosts.length > 0 ? `; also answering ${extraHosts.join(', ')}` : ''}${mocks ? `; mocks loaded: ${mocks.testCaseCount} test case${mocks.testCaseCount === 1 ? '' : 's'} from ${mocks.source}, run one with <stateMachineArn>#<TestCase>` : ''})\n`,
  );
  return -1;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) runCli();

function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
