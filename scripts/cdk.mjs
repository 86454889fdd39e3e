#!/usr/bin/env node
// Runs the pinned CDK CLI offline: no telemetry, no version check, no notices (design.md §5).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('aws-cdk/package.json')), 'bin', 'cdk');
const env = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  CDK_DISABLE_VERSION_CHECK: '1',
  AWS_EC2_METADATA_DISABLED: 'true',
};
const args = process.argv.slice(2);
if (!args.includes('--no-notices')) args.push('--no-notices');
const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
