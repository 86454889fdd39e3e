#!/usr/bin/env node
// @ts-check
// TestState mode of the conformance kit: runs the AWS-recorded TestState cases (`cases/teststate-*.json`,
// format in pending/README.md) through the stock `@aws-sdk/client-sfn` `TestStateCommand`, against
// STEPSAGA_ENDPOINT (the local cloud) or AWS itself when it is unset (then STEPSAGA_ROLE_ARN names a role
// Step Functions can assume). The responses are compared with the vendored runner's own rules
// (`runner.mjs` `compareCase`), paths rooted at `$.response`.
//
//   node conformance/teststate.mjs --corpus FILE [--only id1,id2] [--concurrency N] [--verbose]
//
// Prints `PASS id` / `FAIL id :: differences` per case and `N passed, M failed`, like runner.mjs.
//
// The SDK sends TestState to a `sync-` prefixed host (`sync-states.<region>.amazonaws.com` on AWS); against
// an endpoint URL it would call `sync-127.0.0.1`, so the client is made with `disableHostPrefix: true`.
/** @import { TestStateInput } from '@aws-sdk/client-sfn' */
/** @import { LambdaBehaviour } from './runner.mjs' */
/**
 * One TestState case (format in pending/README.md).
 * @typedef {object} TestStateCase
 * @property {string} id
 * @property {TestStateInput} request  `roleArn: '<roleArn>'` stands for a role of the endpoint
 * @property {Record<string, LambdaBehaviour>} [lambdas]
 * @property {unknown} expected  `{response}` or `{exception: {code, message}}`
 * @property {string[]} [jsonStrings]
 * @property {string[]} [ignore]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient, TestStateCommand } from '@aws-sdk/client-sfn';
import { ensureFunction, release } from './adapter.mjs';
import { compareCase, parseArgs, runCases } from './runner.mjs';

const endpoint = process.env.STEPSAGA_ENDPOINT;
const sfn = new SFNClient({
  ...(endpoint
    ? { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }
    : {}),
  disableHostPrefix: Boolean(endpoint),
});
const roleArn = process.env.STEPSAGA_ROLE_ARN ?? 'arn:aws:iam::000000000000:role/StepFunctionsRole';

/**
 * The request as the case gives it, `<roleArn>` replaced by a role of this endpoint.
 * @param {TestStateCase} c
 */
function request(c) {
  const req = structuredClone(c.request);
  if (req.roleArn === '<roleArn>') req.roleArn = roleArn;
  return req;
}

/**
 * Runs one case: `{response}` (TestStateOutput without $metadata) or `{exception: {code, message}}`.
 * @param {TestStateCase} c
 */
export async function runTestState(c) {
  /** @type {string[]} */
  const held = [];
  try {
    for (const [name, spec] of Object.entries(c.lambdas ?? {})) {
      await ensureFunction(name, spec);
      held.push(`lambda:${name}`);
    }
    try {
      const { $metadata, ...response } = await sfn.send(new TestStateCommand(request(c)));
      return { response };
    } catch (error) {
      // A service error (the SDK's exceptions carry `$metadata`) is the outcome; anything else is a bug.
      const failure = /** @type {{ $metadata?: unknown, name?: string, message?: string } | undefined} */ (
        error
      );
      if (failure?.$metadata === undefined) throw error;
      return { exception: { code: failure.name, message: failure.message } };
    }
  } finally {
    for (const name of held) release(name);
  }
}

/**
 * The runner's rules on a TestState case: its `$.response` paths become the runner's `$.output`.
 * @param {TestStateCase} c
 * @param {unknown} actual
 */
export function compareTestState(c, actual) {
  /** @param {string[] | undefined} paths */
  const rooted = (paths) => (paths ?? []).map((p) => p.replace(/^\$\.response/, '$.output.response'));
  const synthetic = {
    expected: { status: 'SUCCEEDED', output: c.expected },
    jsonStrings: rooted(c.jsonStrings),
    ignore: rooted(c.ignore),
  };
  return compareCase(synthetic, { status: 'SUCCEEDED', output: actual });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!process.argv.includes('--corpus')) {
    console.error(
      'usage: node conformance/teststate.mjs --corpus FILE [--only ids] [--concurrency N] [--verbose]',
    );
    process.exit(2);
  }
  /** @type {TestStateCase[]} */
  const corpus = JSON.parse(readFileSync(opts.corpus, 'utf8'));
  const cases = corpus.filter((c) => !opts.only || opts.only.has(c.id));
  /** @param {TestStateCase} c */
  const check = async (c) => {
    const result = await runTestState(c);
    return { result, diffs: compareTestState(c, result) };
  };
  const failed = await runCases(cases, check, { concurrency: opts.concurrency, verbose: opts.verbose });
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}
