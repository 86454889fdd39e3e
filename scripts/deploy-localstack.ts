// `npm run deploy:localstack [-- <extra cdk args>]`: deploys the OrderSaga stack to a running LocalStack
// (docker compose up -d --wait) with cdklocal (npm aws-cdk-local, wrapping the pinned aws-cdk CLI):
//   1. checks LocalStack answers on $AWS_ENDPOINT_URL (default http://localhost:4566);
//   2. `cdklocal bootstrap aws://000000000000/us-east-1` (idempotent: a no-op once bootstrapped);
//   3. `cdklocal deploy OrderSaga -c faults=on --require-approval never
//       --outputs-file .stepsaga/localstack-outputs.json` (the dev stage with fault injection, the same
//      assembly the local cloud runs), so STEPSAGA_TARGET=localstack tests can read the outputs.
// Offline-friendly CLI settings as in scripts/cdk.ts (no telemetry, no version check, no notices).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_REVIEW_TIMEOUT_SECONDS } from '../lib/contract';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cdklocal = path.join(path.dirname(require.resolve('aws-cdk-local/package.json')), 'bin', 'cdklocal');
const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566';
const outputsFile = process.env.STEPSAGA_OUTPUTS ?? path.join('.stepsaga', 'localstack-outputs.json');
const region = process.env.AWS_REGION ?? 'us-east-1';
const account = '000000000000';

const env: NodeJS.ProcessEnv = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  CDK_DISABLE_VERSION_CHECK: '1',
  AWS_EC2_METADATA_DISABLED: 'true',
  // cdklocal strips AWS_* variables (so nothing can reach real AWS) except the ones allowed here.
  AWS_REGION: region,
  AWS_DEFAULT_REGION: region,
  AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION',
};
if (process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_S3) {
  // cdklocal needs a virtual-host style S3 endpoint next to a custom AWS_ENDPOINT_URL; LocalStack's
  // public name *.localhost.localstack.cloud resolves to 127.0.0.1.
  const url = new URL(process.env.AWS_ENDPOINT_URL);
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  url.hostname = local ? 's3.localhost.localstack.cloud' : `s3.${url.hostname}`;
  env.AWS_ENDPOINT_URL_S3 = url.origin;
}

async function localStackIsUp(): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(3000) });
    return response.ok;
  } catch {
    return false;
  }
}

function run(args: string[]): void {
  console.log(`\n$ cdklocal ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cdklocal, ...args, '--no-notices'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!(await localStackIsUp())) {
  console.error(
    `LocalStack does not answer on ${endpoint}/_localstack/health.\n` +
      'Start it first: docker compose up -d --wait   (needs Docker; without Docker use `npm start`, the local cloud)',
  );
  process.exit(1);
}
mkdirSync(path.join(root, path.dirname(outputsFile)), { recursive: true });
run(['bootstrap', `aws://${account}/${region}`]);
run([
  'deploy',
  'OrderSaga-dev',
  '-c',
  'faults=on',
  // The e2e suite waits out a review deadline: the short one its local runs use (TEST_REVIEW_TIMEOUT_SECONDS).
  '-c',
  `reviewTimeout=${TEST_REVIEW_TIMEOUT_SECONDS}`,
  '--require-approval',
  'never',
  '--outputs-file',
  outputsFile,
  ...process.argv.slice(2),
]);
console.log(
  `\nDeployed. Outputs: ${outputsFile}\n` +
    `Test it: STEPSAGA_TARGET=localstack STEPSAGA_OUTPUTS=${outputsFile} npm test -- --project e2e`,
);
