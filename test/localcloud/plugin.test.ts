/**
 * The app config (localcloud/plugin.ts): found by convention or named, refused with a clear error when
 * it is not one, and optional: without it the console answers its generic routes and says which hook an
 * app route needs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_NAMES, TEST_REVIEW_TIMEOUT_SECONDS } from '../../lib/contract';
import { createConsoleService } from '../../localcloud/console/service';
import { loadPlugin } from '../../localcloud/plugin';
import type { AwsRequest } from '../../localcloud/types';
import appConfig from '../../stepsaga.config';
import { sdkConfig, sharedCloud } from '../support/localcloud';

const dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-plugin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function get(p: string): AwsRequest {
  const url = new URL(p, 'http://127.0.0.1');
  return {
    method: 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: {},
    body: Buffer.alloc(0),
    service: 'console',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
  };
}

describe('app config', () => {
  it('loads ./stepsaga.config.ts by default, and nothing where there is none', async () => {
    const loaded = await loadPlugin();
    expect(loaded.sagas?.map((s) => s.name)).toEqual(['order', 'transfer']);
    expect(loaded).toBe(appConfig);
    expect(await loadPlugin(undefined, dir)).toEqual({});
  });

  it('names a missing --config file and a file that exports no config', async () => {
    await expect(loadPlugin('nope.config.ts', dir)).rejects.toThrow(/No app config at .*nope\.config\.ts/);
    writeFileSync(path.join(dir, 'bad.config.mjs'), 'export default 42;\n');
    await expect(loadPlugin('bad.config.mjs', dir)).rejects.toThrow(/must export default an app config/);
    writeFileSync(path.join(dir, 'nameless.config.mjs'), 'export default { sagas: [{}] };\n');
    await expect(loadPlugin('nameless.config.mjs', dir)).rejects.toThrow(/"sagas" must be an array/);
    writeFileSync(
      path.join(dir, 'numbers.config.mjs'),
      'export default { testSynthContext: { reviewTimeout: 20 } };\n',
    );
    await expect(loadPlugin('numbers.config.mjs', dir)).rejects.toThrow(
      /"testSynthContext" must be an object of strings/,
    );
  });

  it("gives the tests' assembly (ensureAssembly: tests, benchmarks, chaos) its testSynthContext on top: a review deadline short enough to wait out", async () => {
    const cloud = sharedCloud();
    const sfn = new SFNClient(sdkConfig(cloud));
    try {
      const machine = await sfn.send(
        new DescribeStateMachineCommand({ stateMachineArn: String(cloud.outputs.StateMachineArn) }),
      );
      const definition = JSON.parse(machine.definition ?? '{}') as {
        States: Record<string, { TimeoutSeconds?: number }>;
      };
      expect(appConfig.testSynthContext).toEqual({ reviewTimeout: String(TEST_REVIEW_TIMEOUT_SECONDS) });
      expect(definition.States[STATE_NAMES.requestReview]?.TimeoutSeconds).toBe(TEST_REVIEW_TIMEOUT_SECONDS);
    } finally {
      sfn.destroy();
    }
  });

  it('without a config the console serves its generic routes and names the hook an app route needs', async () => {
    const console = createConsoleService({ endpoint: () => 'http://127.0.0.1:1', outputs: () => ({}) });
    const choices = await console.handle(get('/_console/api/choices'));
    expect(choices.status).toBe(200);
    expect(JSON.parse(String(choices.body))).toMatchObject({ sagas: [], statuses: expect.any(Array) });
    const data = await console.handle(get('/_console/api/data'));
    expect(data.status).toBe(404);
    expect(JSON.parse(String(data.body)).error).toMatch(/No app config .* console hook "data"/);
    const graph = await console.handle(get('/_console/api/graph'));
    expect(graph.status).toBe(503);
    expect(JSON.parse(String(graph.body)).error).toMatch(/StateMachineArn is not available/);
    const unknown = await console.handle(get('/_console/api/choices?saga=transfer'));
    expect(unknown.status).toBe(404);
    await console.close?.();
  });
});
