import { defineConfig } from 'vitest/config';

/**
 * One config, four projects (their helpers: test/support/):
 * - infra:      the synthesized CDK template (no services)
 * - lambdas:    handlers, domain code and the toolkit's runtime against DynamoDB Local (one JVM for the
 *               run: dynamodb-local.global.ts)
 * - localcloud: the local cloud's services, conformance cases, AWS CLI as a client
 * - e2e:        the saga through the API of a target (local cloud by default; STEPSAGA_TARGET=localstack|aws)
 * localcloud and e2e synthesize the test assembly and share one local cloud per project among the files
 * that need no options of their own (localcloud.global.ts, localcloud.ts).
 */
export default defineConfig({
  test: {
    // One file at a time: the e2e and local cloud files drive a whole local cloud (a JVM and Lambda
    // workers); two at once on a 2-core machine measure contention, not the saga.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          // Template tests synthesize many variants in-process: without CDK's built-in CloudFormation
          // validation (most of a synth's CPU). It runs in the cdklocal synth of localstack.test.ts, in
          // `npm run synth` and in CI's synth step, where its errors fail the build.
          env: { CDK_VALIDATION: 'false' },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'lambdas',
          include: ['test/lambdas/**/*.test.ts', 'test/toolkit/**/*.test.ts'],
          globalSetup: ['test/support/dynamodb-local.global.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'localcloud',
          include: ['test/localcloud/**/*.test.ts'],
          globalSetup: ['test/support/localcloud.global.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/localcloud.global.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
