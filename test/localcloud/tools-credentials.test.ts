/**
 * The tools sign with the user's credentials and the target's region, resolved by the standard chain:
 * a temporary shared config with a profile (its own keys and region), and the local cloud recording the
 * SigV4 credential scope of every request it receives (it does not enforce IAM; what it receives is what
 * AWS would authenticate).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../client/api';
import { regionFromOutputs } from '../../client/aws';
import { clientConfig } from '../../client/outputs';
import type { LocalCloud } from '../../localcloud/cloud';
import { parseCredential } from '../../localcloud/protocol';
import { runRedrive } from '../../scripts/redrive';
import { startTestCloud } from '../support/localcloud';

const PROFILE = { name: 'stepsaga-sso-like', key: 'AKIAPROFILEKEY000001', region: 'eu-west-1' };
const ENV_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
] as const;

let cloud: LocalCloud;
let dir: string;
const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
const received: { path: string; accessKeyId: string; region: string; service: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-profile-'));
  writeFileSync(path.join(dir, 'config'), `[profile ${PROFILE.name}]\nregion = ${PROFILE.region}\n`);
  writeFileSync(
    path.join(dir, 'credentials'),
    `[${PROFILE.name}]\naws_access_key_id = ${PROFILE.key}\naws_secret_access_key = profile-secret\n`,
  );
  for (const key of ENV_KEYS) {
    saved[key] = process.env[key];
    delete process.env[key];
  }
  process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
  process.env.AWS_PROFILE = PROFILE.name;
  cloud = await startTestCloud({
    retryScale: 0.01,
    onRequest: (req) => {
      const credential = parseCredential(req.headers, req.query);
      if (credential) received.push({ path: req.path, ...credential });
    },
  });
}, 180_000);

afterAll(async () => {
  await cloud?.close();
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  rmSync(dir, { recursive: true, force: true });
});

function lastReceived(service: string) {
  const found = received.filter((r) => r.service === service).at(-1);
  if (!found) throw new Error(`the local cloud received no ${service} request`);
  return found;
}

describe('tools use the profile of the standard credential chain and the target region', () => {
  it('npm run redrive signs its Lambda call with the profile key, in the region of the stack outputs', async () => {
    const outputsFile = path.join(dir, 'outputs.json');
    writeFileSync(outputsFile, JSON.stringify({ 'OrderSaga-dev': cloud.outputs }));

    const { report } = await runRedrive(['--outputs', outputsFile]);

    expect(report.processed).toBe(0);
    // The outputs' ARNs name the stack's region: it wins over the profile's.
    const stackRegion = regionFromOutputs(cloud.outputs);
    expect(stackRegion).toBe('us-east-1');
    expect(lastReceived('lambda')).toMatchObject({ accessKeyId: PROFILE.key, region: stackRegion });
  });

  it("without a region in the outputs, the profile's region is used", async () => {
    const outputsFile = path.join(dir, 'no-region.json');
    writeFileSync(
      outputsFile,
      JSON.stringify({ Endpoint: cloud.endpoint, RedriveFunctionName: cloud.outputs.RedriveFunctionName }),
    );

    await runRedrive(['--outputs', outputsFile]);

    expect(lastReceived('lambda')).toMatchObject({ accessKeyId: PROFILE.key, region: PROFILE.region });
  });

  it('the API client (npm run order, the e2e suite) signs with the profile key and the resolved region', async () => {
    const config = clientConfig(cloud.outputs);
    const api = createApiClient({
      apiUrl: cloud.outputs.ApiUrl!,
      region: config.region,
      credentials: config.credentials,
    });
    const defaults = createApiClient({ apiUrl: cloud.outputs.ApiUrl! });

    const answered = await api.get('orders/never-ordered');
    expect(answered.status).toBe(404);
    expect(lastReceived('execute-api')).toMatchObject({ accessKeyId: PROFILE.key, region: 'us-east-1' });

    // With nothing passed, a localhost URL names no region: the profile's.
    expect((await defaults.get('orders/never-ordered')).status).toBe(404);
    expect(lastReceived('execute-api')).toMatchObject({ accessKeyId: PROFILE.key, region: PROFILE.region });
  });

  it('reads the region of an AWS target from its ARNs and URLs, whatever the profile says', () => {
    expect(
      regionFromOutputs({
        ApiUrl: 'https://abc123.execute-api.ap-southeast-2.amazonaws.com/v1/',
        StateMachineArn: 'arn:aws:states:ap-southeast-2:123456789012:stateMachine:SagaStateMachine-x',
        DlqUrl: 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/OrderSaga-prod-DeadLetterQueue-x',
      }),
    ).toBe('ap-southeast-2');
  });
});
