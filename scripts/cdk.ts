// Runs the pinned CDK CLI: no telemetry, no version check, no notices. Credentials and
// region are the user's, untouched: the CLI's standard chain (env, SSO, AWS_PROFILE/--profile, instance
// roles). `synth` alone needs none: only there is the EC2 metadata lookup switched off, so an offline
// synth does not wait for an instance role that is not there.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('aws-cdk/package.json')), 'bin', 'cdk');
const args = process.argv.slice(2);
const env = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  CDK_DISABLE_VERSION_CHECK: '1',
  ...(args[0] === 'synth' || args[0] === 'synthesize' ? { AWS_EC2_METADATA_DISABLED: 'true' } : {}),
};
if (!args.includes('--no-notices')) args.push('--no-notices');
const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
