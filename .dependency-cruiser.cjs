/**
 * The layers (docs/architecture.md "Layers"), checked by `npm run lint:layers` (part of `npm run lint`
 * and of CI): imports point one way, and there are no cycles.
 *
 *   toolkit    toolkit/                             generic: construct/ (the Saga construct, SagaFunction,
 *                                                   error names) and runtime/ (step engine, step handler,
 *                                                   errors, faults, redrive)
 *   sagas      lib/ lambdas/ bin/ seed/             the order and transfer sagas: contracts, stacks, handlers, domain
 *   tools      scripts/ chaos/ bench/ client/       may use the order saga, the toolkit, the local cloud
 *   localcloud localcloud/ conformance/             serves any CDK app: imports none of the above
 *   app config stepsaga.config.ts                   wires the app into the local cloud (may import all)
 *   tests      test/                                may import all; nothing imports tests
 *
 * test/infra/layers.test.ts runs this config on fixtures to show that it fails an upward import.
 */
const TOOLKIT = '^toolkit/';
const ORDER = '^(lib|lambdas|bin|seed)/';
const TOOLS = '^(scripts|chaos|bench|client)/';
const LOCALCLOUD = '^(localcloud|conformance)/';
const APP_CONFIG = '^stepsaga[.]config[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle: split the shared part out, or pass the dependency in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'localcloud-is-app-agnostic',
      severity: 'error',
      comment:
        'The local cloud serves any synthesized CDK app: what is app-specific comes from the app config ' +
        '(stepsaga.config.ts, typed by localcloud/plugin.ts), never from an import.',
      from: { path: LOCALCLOUD },
      to: { path: [ORDER, TOOLS, APP_CONFIG, '^test/'] },
    },
    {
      name: 'toolkit-is-generic',
      severity: 'error',
      comment: 'The saga toolkit knows no saga: no import from the sagas, the tools or the local cloud.',
      from: { path: TOOLKIT },
      to: { path: [ORDER, TOOLS, LOCALCLOUD, APP_CONFIG, '^test/'] },
    },
    {
      name: 'order-saga-imports-only-the-toolkit',
      severity: 'error',
      comment: 'The sagas (contracts, stacks, handlers, domain) may import the toolkit, not the tools.',
      from: { path: ORDER },
      to: { path: [TOOLS, LOCALCLOUD, APP_CONFIG, '^test/'] },
    },
    {
      name: 'tools-import-no-tests',
      severity: 'error',
      comment: 'Tools and the app config are shipped code: nothing outside test/ imports a test file.',
      from: { path: [TOOLS, APP_CONFIG] },
      to: { path: ['^test/', APP_CONFIG] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', 'cdk[.]out', '[.]stepsaga', 'conformance/cases'] },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
