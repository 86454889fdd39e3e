/**
 * CreateStateMachine's checks of a definition (JSONPath and JSONata), with AWS's InvalidDefinition texts.
 *
 * Where a text comes from, next to each one:
 * - "recorded": an AWS recording in LocalStack's AWS-validated snapshots (localstack/localstack@8b9a79f,
 *   `tests/aws/services/stepfunctions/**\/*.snapshot.json`), file named.
 * - "reported": AWS's output quoted in a public issue (AWS CLI against real AWS), issue named.
 * - "not recorded": no AWS text found; a clear message in AWS's format, chosen here.
 *
 * A problem's `location` is AWS's pointer: `/States/<name>/<field>`, array items as `Choices[0]`,
 * nested containers as `/States/M/ItemProcessor/States/<name>` and `/States/P/Branches[0]/States/<name>`;
 * `''` when AWS gives none (rendered "at null", as AWS renders MISSING_END_STATE).
 */
import jsonata from 'jsonata';
import { resourceDefinitionError } from '../integrations';

export interface DefinitionProblem {
  /** SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, MISSING_END_STATE, INVALID_JSONATA_EXPRESSION... */
  code: string;
  message: string;
  /** JSON pointer of the field or state, AWS's spelling (`/States/X/Next`); `''` for none. */
  location: string;
}

type Language = 'JSONPath' | 'JSONata';
type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every problem AWS's CreateStateMachine reports for this definition (JSONPath and JSONata), empty when valid. */
export function validateDefinition(
  definition: unknown,
  options: { type: 'STANDARD' | 'EXPRESS' },
): DefinitionProblem[] {
  if (!isObj(definition)) {
    // recorded (ValidateStateMachineDefinition of ""): test_sfn_api_validation.snapshot.json
    // ::test_validate_state_machine_definition_not_a_definition[EMPTY_STRING]
    return [{ code: SCHEMA, message: 'Definition must be a valid JSON object', location: '' }];
  }
  const validator = new Validator(options.type);
  validator.machine(definition);
  return [...validator.schema, ...validator.graph];
}

/** AWS's InvalidDefinition message for the problems: "Invalid State Machine Definition: '<CODE: message at /pointer>, <...>'". */
export function invalidDefinitionMessage(problems: readonly DefinitionProblem[]): string {
  // reported (AWS CLI): localstack/localstack#11978 — problems joined with ", " inside one pair of quotes:
  // "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at
  // /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2'"
  const parts = problems.map((p) => `${p.code}: ${p.message} at ${p.location === '' ? 'null' : p.location}`);
  return `Invalid State Machine Definition: '${parts.join(', ')}'`;
}

// -----------------------------------------------------------------------------------------------------
// texts
// -----------------------------------------------------------------------------------------------------

const SCHEMA = 'SCHEMA_VALIDATION_FAILED';
const TRANSITION = 'MISSING_TRANSITION_TARGET';

const STATE_TYPES = ['Task', 'Wait', 'Pass', 'Succeed', 'Fail', 'Choice', 'Parallel', 'Map'] as const;
type StateType = (typeof STATE_TYPES)[number];

const text = {
  // recorded: test_sfn_api.snapshot.json::test_create_delete_invalid_sm ("[States] at /") and
  // test_sfn_api_validation.snapshot.json (EMPTY_DICT "[States, StartAt]", INVALID_BASE_NO_STARTAT "[StartAt]")
  required: (fields: readonly string[]) => `These fields are required: [${fields.join(', ')}]`,
  // recorded: test_test_state_machine_scenarios.snapshot.json::test_state_name_invalid_state_definition
  type: `The field 'Type' should have one of these values: [${STATE_TYPES.join(', ')}]`,
  // recorded: test_state_mock_validation.snapshot.json::test_parallel_state_empty_branches
  empty: 'Value cannot be empty',
  // recorded: test_base_scenarios.snapshot.json::test_wait_timestamp_invalid[*]
  timestamp: 'String does not match RFC3339 timestamp',
  // recorded: test_base_scenarios.snapshot.json::test_illegal_escapes[*]
  payloadPath: (field: string) =>
    `The value for the field '${field}' must be a valid JSONPath or a valid intrinsic function call`,
  // recorded: test_credentials_base.snapshot.json::test_invalid_credentials_field[*]
  roleArn: "The field 'RoleArn' is required but was missing",
  // recorded: test_sfn_api_validation.snapshot.json::...[INVALID_DOWNGRADE_QUERY_LANGUAGE]
  downgrade: "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
  // recorded: test_sfn_api_express.snapshot.json::test_illegal_callbacks[SYNC], test_illegal_activity_task
  expressSync: "Express state machine does not support '.sync' service integration",
  expressActivity: 'Express state machine does not support Activity ARN',
  // Kept from the previous validator (tests rely on them). AWS's recording of the first has two spaces
  // before "at" (test_sfn_api_express.snapshot.json::test_illegal_callbacks[WAIT_FOR_TASK_TOKEN]).
  expressCallback: "Express state machine does not support '.waitForTaskToken' service integration",
  heartbeat: 'HeartbeatSeconds must be smaller than TimeoutSeconds',
  // reported (validate-state-machine-definition against AWS): floci-io/floci#2735, #2968, #3733
  notSupported: (field: string) => `Field '${field}' is not supported`,
  otherLanguage: (language: Language, field: string) =>
    `The QueryLanguage is set to '${language}', but field '${field}' is only supported for the '${language === 'JSONata' ? 'JSONPath' : 'JSONata'}' QueryLanguage`,
  enumValue: (values: readonly string[]) => `Value should be one of the following: [${values.join(', ')}]`,
  valueType: (kind: 'STRING' | 'BOOLEAN' | 'INTEGER' | 'NUMBER' | 'OBJECT' | 'ARRAY') =>
    `Expected value of type [${kind}]`,
  onlyOne: (fields: readonly string[]) =>
    `There should only be one of the following fields: [${fields.join(', ')}]`,
  minimum: (value: string) => `Minimum value is ${value}`,
  maximum: (value: string) => `Maximum value is ${value}`,
  notReferencePath: 'Value is not a Reference Path',
  missingTarget: (target: string) => `Missing 'Next' target: ${target}`,
  unreachable: (state: string) => `State "${state}" is not reachable.`,
  noTerminal: 'Workflow has no terminal state',
  dollarDollar: "Reference to '$$' is not supported.",
  errorOutput: "Field '$states.errorOutput' does not exist.",
  // reported (AWS texts quoted by third-party preflight rules for CreateStateMachine); not recorded
  oneOf: (fields: readonly string[]) =>
    `This object should have only one of the following fields: [${fields.join(', ')}]`,
  referencePathDollar: "Value is not a Reference Path: Reference path didn't start with '$'",
  jsonPath: 'Value must be a valid JSONPath.',
  ruleSelector: 'The object must have only one of the following fields, [And, Or, Not, Variable, Condition]',
  // not recorded: chosen, in AWS's format
  statesAllAlone: "'States.ALL' must appear alone in 'ErrorEquals'",
  statesAllLast: "The element with 'States.ALL' must be the last one",
  operator: 'A comparison operator is required',
  jsonataExpression: 'Value must be a JSONata expression {% ... %}',
  resourceArn: 'Value is not a valid resource ARN',
  label: 'Label must be at most 40 characters, with no whitespace, brackets, wildcards or special characters',
  stateName: 'State name must be 1 to 80 characters',
  variableName: (name: string) =>
    `Invalid variable name '${name}': the variable name contains invalid characters.`,
  reservedVariable: "Cannot assign to reserved variable '$states'.",
} as const;

// -----------------------------------------------------------------------------------------------------
// fields per state type and query language
// -----------------------------------------------------------------------------------------------------

interface FieldTable {
  both: readonly string[];
  jsonPath: readonly string[];
  jsonata: readonly string[];
}

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const FIELDS: Record<StateType, FieldTable> = {
  Pass: {
    both: ['Next', 'End', 'Assign'],
    jsonPath: ['InputPath', 'OutputPath', 'Parameters', 'ResultPath', 'Result'],
    jsonata: ['Output'],
  },
  Task: {
    both: [
      'Resource',
      'Next',
      'End',
      'Assign',
      'Retry',
      'Catch',
      'TimeoutSeconds',
      'HeartbeatSeconds',
      'Credentials',
    ],
    jsonPath: [
      'InputPath',
      'OutputPath',
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'TimeoutSecondsPath',
      'HeartbeatSecondsPath',
    ],
    jsonata: ['Arguments', 'Output'],
  },
  Choice: {
    both: ['Choices', 'Default', 'Assign'],
    jsonPath: ['InputPath', 'OutputPath'],
    jsonata: ['Output'],
  },
  Wait: {
    both: ['Next', 'End', 'Seconds', 'Timestamp', 'Assign'],
    jsonPath: ['InputPath', 'OutputPath', 'SecondsPath', 'TimestampPath'],
    jsonata: ['Output'],
  },
  Succeed: { both: [], jsonPath: ['InputPath', 'OutputPath'], jsonata: ['Output'] },
  Fail: { both: ['Error', 'Cause'], jsonPath: ['ErrorPath', 'CausePath'], jsonata: [] },
  Parallel: {
    both: ['Branches', 'Next', 'End', 'Assign', 'Retry', 'Catch'],
    jsonPath: ['InputPath', 'OutputPath', 'Parameters', 'ResultSelector', 'ResultPath'],
    jsonata: ['Arguments', 'Output'],
  },
  Map: {
    both: [
      'ItemProcessor',
      'Iterator',
      'ItemSelector',
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
      'MaxConcurrency',
      'ToleratedFailureCount',
      'ToleratedFailurePercentage',
      'Label',
      'Next',
      'End',
      'Assign',
      'Retry',
      'Catch',
    ],
    jsonPath: [
      'InputPath',
      'OutputPath',
      'ItemsPath',
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'MaxConcurrencyPath',
      'ToleratedFailureCountPath',
      'ToleratedFailurePercentagePath',
    ],
    jsonata: ['Items', 'Output'],
  },
};

const CATCHER_FIELDS: FieldTable = {
  both: ['ErrorEquals', 'Next', 'Comment', 'Assign'],
  jsonPath: ['ResultPath'],
  jsonata: ['Output'],
};
const RETRIER_FIELDS = [
  'ErrorEquals',
  'IntervalSeconds',
  'MaxAttempts',
  'BackoffRate',
  'MaxDelaySeconds',
  'JitterStrategy',
  'Comment',
];

const COMPARISONS: Record<string, 'string' | 'number' | 'boolean' | 'timestamp' | 'path' | 'test'> = {};
for (const kind of ['String', 'Numeric', 'Boolean', 'Timestamp'] as const) {
  const value =
    kind === 'String'
      ? 'string'
      : kind === 'Numeric'
        ? 'number'
        : kind === 'Boolean'
          ? 'boolean'
          : 'timestamp';
  const suffixes =
    kind === 'Boolean'
      ? ['Equals']
      : ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'];
  for (const suffix of suffixes) {
    COMPARISONS[`${kind}${suffix}`] = value;
    COMPARISONS[`${kind}${suffix}Path`] = 'path';
  }
}
COMPARISONS.StringMatches = 'string';
for (const test of ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'])
  COMPARISONS[test] = 'test';

const INTRINSICS = new Set([
  'Format',
  'StringToJson',
  'JsonToString',
  'Array',
  'ArrayPartition',
  'ArrayContains',
  'ArrayRange',
  'ArrayGetItem',
  'ArrayLength',
  'ArrayUnique',
  'Base64Encode',
  'Base64Decode',
  'Hash',
  'JsonMerge',
  'MathRandom',
  'MathAdd',
  'StringSplit',
  'UUID',
]);

/** Fields of a JSONata state whose strings may be `{% %}` expressions (Catch and Choices are walked apart). */
const JSONATA_FIELDS = [
  'Arguments',
  'Output',
  'Assign',
  'Items',
  'ItemSelector',
  'Seconds',
  'Timestamp',
  'TimeoutSeconds',
  'HeartbeatSeconds',
  'Credentials',
  'MaxConcurrency',
  'ToleratedFailureCount',
  'ToleratedFailurePercentage',
  'Error',
  'Cause',
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
];

// -----------------------------------------------------------------------------------------------------
// the validator
// -----------------------------------------------------------------------------------------------------

interface Edge {
  target: string;
  location: string;
}

class Validator {
  readonly schema: DefinitionProblem[] = [];
  readonly graph: DefinitionProblem[] = [];
  private machineLanguage: Language = 'JSONPath';

  constructor(private readonly type: 'STANDARD' | 'EXPRESS') {}

  private fail(message: string, location: string, code = SCHEMA): void {
    this.schema.push({ code, message, location });
  }

  machine(definition: Obj): void {
    const allowed = ['Comment', 'StartAt', 'States', 'TimeoutSeconds', 'Version', 'QueryLanguage'];
    const language = definition.QueryLanguage;
    if (language !== undefined) {
      this.machineLanguage = this.queryLanguage(language, '/QueryLanguage');
    }
    for (const key of Object.keys(definition))
      if (!allowed.includes(key)) this.fail(text.notSupported(key), '/');
    this.optionalString(definition, 'Comment', '');
    this.optionalString(definition, 'Version', '');
    if (definition.TimeoutSeconds !== undefined)
      this.integer(definition.TimeoutSeconds, '/TimeoutSeconds', 1, 99_999_999);
    this.container(definition, '', true);
  }

  /** A state list: the machine, a Parallel branch, a Map processor. `prefix` is '' for the machine. */
  private container(node: Obj, prefix: string, top: boolean): void {
    const here = prefix === '' ? '/' : prefix;
    const missing = ['States', 'StartAt'].filter((field) => node[field] === undefined);
    if (missing.length > 0) this.fail(text.required(missing), here);
    const startAt = node.StartAt;
    if (startAt !== undefined && typeof startAt !== 'string')
      this.fail(text.valueType('STRING'), `${prefix}/StartAt`);
    const states = node.States;
    if (states === undefined) return;
    if (!isObj(states)) {
      this.fail(text.valueType('OBJECT'), `${prefix}/States`);
      return;
    }
    const edges = new Map<string, Edge[]>();
    for (const [name, state] of Object.entries(states)) {
      edges.set(name, this.state(name, state, `${prefix}/States/${name}`));
    }
    this.transitions(typeof startAt === 'string' ? startAt : undefined, prefix, states, edges, top);
  }

  private transitions(
    startAt: string | undefined,
    prefix: string,
    states: Obj,
    edges: Map<string, Edge[]>,
    top: boolean,
  ): void {
    const link = (message: string, location: string) =>
      this.graph.push({ code: TRANSITION, message, location });
    if (startAt !== undefined && !Object.hasOwn(states, startAt))
      link(text.missingTarget(startAt), `${prefix}/StartAt`);
    for (const list of edges.values())
      for (const edge of list)
        if (!Object.hasOwn(states, edge.target)) link(text.missingTarget(edge.target), edge.location);
    const names = Object.keys(states);
    const terminal = names.some((name) => {
      const state = states[name];
      return isObj(state) && (state.End === true || state.Type === 'Succeed' || state.Type === 'Fail');
    });
    if (top && names.length > 0 && !terminal) {
      this.graph.push({ code: 'MISSING_END_STATE', message: text.noTerminal, location: '' });
      return;
    }
    const reached = new Set<string>();
    const queue = startAt !== undefined && Object.hasOwn(states, startAt) ? [startAt] : [];
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (reached.has(name)) continue;
      reached.add(name);
      for (const edge of edges.get(name) ?? [])
        if (Object.hasOwn(states, edge.target)) queue.push(edge.target);
    }
    for (const name of names)
      if (!reached.has(name)) link(text.unreachable(name), `${prefix}/States/${name}`);
  }

  private queryLanguage(value: unknown, location: string): Language {
    if (typeof value !== 'string') this.fail(text.valueType('STRING'), location);
    else if (value !== 'JSONPath' && value !== 'JSONata')
      this.fail(text.enumValue(['JSONPath', 'JSONata']), location);
    // AWS resolves anything but exactly "JSONPath" to JSONata (reported: floci-io/floci#2968).
    return value === 'JSONPath' ? 'JSONPath' : 'JSONata';
  }

  /** Checks a state; returns its outgoing transitions (Next, Default, Choices[].Next, Catch[].Next). */
  private state(name: string, state: unknown, at: string): Edge[] {
    if (name.length < 1 || name.length > 80) this.fail(text.stateName, at, 'INVALID_STATE_NAME');
    if (!isObj(state)) {
      this.fail(text.valueType('OBJECT'), at);
      return [];
    }
    if (state.Type === undefined) {
      this.fail(text.required(['Type']), at);
      return this.edges(state, at);
    }
    if (!STATE_TYPES.includes(state.Type as StateType)) {
      this.fail(text.type, `${at}/Type`);
      return this.edges(state, at);
    }
    const type = state.Type as StateType;
    let language = this.machineLanguage;
    let mixed = false;
    if (state.QueryLanguage !== undefined) {
      language = this.queryLanguage(state.QueryLanguage, `${at}/QueryLanguage`);
      if (language === 'JSONPath' && this.machineLanguage === 'JSONata') {
        // The downgrade is the whole answer about the state's fields (reported: floci-io/floci#2968).
        this.fail(text.downgrade, at);
        mixed = true;
      }
    }
    this.fields(state, at, FIELDS[type], language, mixed);
    this.optionalString(state, 'Comment', at);
    const context: StateContext = { state, at, language, type };
    if (['Pass', 'Task', 'Wait', 'Parallel', 'Map'].includes(type)) this.nextOrEnd(state, at);
    if (language === 'JSONPath') this.jsonPathFields(context);
    else this.jsonataFields(context);
    if (state.Assign !== undefined) this.assign(state.Assign, `${at}/Assign`, language, false);
    if (state.Retry !== undefined && (type === 'Task' || type === 'Parallel' || type === 'Map'))
      this.retry(state.Retry, `${at}/Retry`);
    if (state.Catch !== undefined && (type === 'Task' || type === 'Parallel' || type === 'Map'))
      this.catch(state.Catch, `${at}/Catch`, language);
    switch (type) {
      case 'Task':
        this.task(context);
        break;
      case 'Choice':
        this.choice(context);
        break;
      case 'Wait':
        this.wait(context);
        break;
      case 'Fail':
        this.failState(context);
        break;
      case 'Parallel':
        this.parallel(context);
        break;
      case 'Map':
        this.map(context);
        break;
      default:
        break;
    }
    return this.edges(state, at);
  }

  private edges(state: Obj, at: string): Edge[] {
    const edges: Edge[] = [];
    if (typeof state.Next === 'string' && state.Type !== 'Choice')
      edges.push({ target: state.Next, location: `${at}/Next` });
    if (state.Type === 'Choice' && Array.isArray(state.Choices))
      state.Choices.forEach((rule, i) => {
        if (isObj(rule) && typeof rule.Next === 'string')
          edges.push({ target: rule.Next, location: `${at}/Choices[${i}]/Next` });
      });
    if (state.Type === 'Choice' && typeof state.Default === 'string')
      edges.push({ target: state.Default, location: `${at}/Default` });
    if (Array.isArray(state.Catch))
      state.Catch.forEach((catcher, i) => {
        if (isObj(catcher) && typeof catcher.Next === 'string')
          edges.push({ target: catcher.Next, location: `${at}/Catch[${i}]/Next` });
      });
    return edges;
  }

  /** Fields the state type takes in its language; the other language's fields; unknown fields. */
  private fields(
    node: Obj,
    at: string,
    table: FieldTable,
    language: Language,
    mixed: boolean,
    common = COMMON,
  ): void {
    const own = language === 'JSONPath' ? table.jsonPath : table.jsonata;
    const other = language === 'JSONPath' ? table.jsonata : table.jsonPath;
    for (const key of Object.keys(node)) {
      if (common.includes(key) || table.both.includes(key) || own.includes(key)) continue;
      if (other.includes(key)) {
        if (!mixed) this.fail(text.otherLanguage(language, key), at);
      } else this.fail(text.notSupported(key), at);
    }
  }

  private nextOrEnd(state: Obj, at: string): void {
    if (state.End !== undefined && typeof state.End !== 'boolean')
      this.fail(text.valueType('BOOLEAN'), `${at}/End`);
    if (state.Next !== undefined && typeof state.Next !== 'string')
      this.fail(text.valueType('STRING'), `${at}/Next`);
    // reported (AWS texts quoted by third-party preflight rules); not recorded
    if (state.Next !== undefined && state.End === true) this.fail(text.onlyOne(['Next', 'End']), at);
    else if (state.Next === undefined && state.End !== true) this.fail(text.oneOf(['Next', 'End']), at);
  }

  // ---------------------------------------------------------------------------------------------------
  // JSONPath fields
  // ---------------------------------------------------------------------------------------------------

  private jsonPathFields({ state, at }: StateContext): void {
    for (const field of ['InputPath', 'OutputPath']) {
      const value = state[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') this.fail(text.valueType('STRING'), `${at}/${field}`);
      else if (parsePath(value) === undefined) this.fail(text.jsonPath, `${at}/${field}`);
    }
    if (state.ResultPath !== undefined && state.ResultPath !== null)
      this.referencePath(state.ResultPath, `${at}/ResultPath`, false);
    for (const field of ['Parameters', 'ResultSelector', 'ItemSelector']) {
      if (state[field] !== undefined) this.payloadTemplate(state[field], `${at}/${field}`);
    }
  }

  /** A path that selects one node: `$`, `$.a.b`, `$['a'][0]`, `$$.Execution.Id`, `$var.a`. */
  private referencePath(
    value: unknown,
    location: string,
    intrinsicAllowed: boolean,
    contextAllowed = true,
  ): void {
    if (typeof value !== 'string') {
      this.fail(text.valueType('STRING'), location);
      return;
    }
    if (intrinsicAllowed && value.startsWith('States.')) {
      if (!isIntrinsicCall(value)) this.fail(text.notReferencePath, location);
      return;
    }
    if (!value.startsWith('$')) {
      this.fail(text.referencePathDollar, location);
      return;
    }
    const path = parsePath(value);
    if (path === undefined || !path.reference || (!contextAllowed && path.root === '$$'))
      this.fail(text.notReferencePath, location);
  }

  /** Parameters, ResultSelector, ItemSelector, Credentials...: `"key.$"` values are paths or intrinsics. */
  private payloadTemplate(value: unknown, location: string): void {
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) walk(item);
        return;
      }
      if (!isObj(node)) return;
      for (const [key, item] of Object.entries(node)) {
        if (key.endsWith('.$')) {
          if (typeof item !== 'string' || !isPathOrIntrinsic(item))
            this.fail(text.payloadPath(key), location);
        } else walk(item);
      }
    };
    walk(value);
  }

  /** Assign: variable names, and (JSONPath) `.$` values or (JSONata) `{% %}` expressions. */
  private assign(value: unknown, location: string, language: Language, inCatch: boolean): void {
    if (!isObj(value)) {
      this.fail(text.valueType('OBJECT'), location);
      return;
    }
    for (const key of Object.keys(value)) {
      const name = language === 'JSONPath' && key.endsWith('.$') ? key.slice(0, -2) : key;
      // reported (AWS texts quoted by third-party preflight rules); not recorded
      if (name === 'states') this.fail(text.reservedVariable, location, 'RESERVED_VARIABLE_NAME');
      else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        this.fail(text.variableName(name), location, 'INVALID_VARIABLE_NAME');
    }
    if (language === 'JSONPath') this.payloadTemplate(value, location);
    else this.expressions(value, location, inCatch);
  }

  // ---------------------------------------------------------------------------------------------------
  // JSONata fields
  // ---------------------------------------------------------------------------------------------------

  private jsonataFields({ state, at }: StateContext): void {
    for (const field of JSONATA_FIELDS) {
      if (field === 'Assign') continue;
      if (state[field] !== undefined) this.expressions(state[field], `${at}/${field}`, false);
    }
  }

  /** Parses every `{% %}` string in the value (AWS refuses an expression that does not parse). */
  private expressions(value: unknown, location: string, inCatch: boolean): void {
    if (typeof value === 'string') {
      const expression = jsonataExpression(value);
      if (expression !== undefined) this.expression(expression, location, inCatch);
      return;
    }
    if (Array.isArray(value)) for (const item of value) this.expressions(item, location, inCatch);
    else if (isObj(value)) for (const item of Object.values(value)) this.expressions(item, location, inCatch);
  }

  private expression(expression: string, location: string, inCatch: boolean): void {
    let ast: unknown;
    try {
      ast = jsonata(expression).ast();
    } catch (error) {
      // reported: floci-io/floci#2745 — the parser's message without its "S0xxx: " code
      // jsonata throws plain objects ({ code, message, position, token }), not Errors
      const message = isObj(error) && typeof error.message === 'string' ? error.message : String(error);
      this.fail(message, location, 'INVALID_JSONATA_EXPRESSION');
      return;
    }
    // reported: floci-io/floci#2745, #2786 — `$$`, and `$states.errorOutput` outside a Catcher
    const unsupported = (message: string) => this.fail(message, location, 'UNSUPPORTED_JSONATA_EXPRESSION');
    let dollarDollar = false;
    let errorOutput = false;
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) walk(item);
        return;
      }
      if (!isObj(node)) return;
      if (node.type === 'variable' && node.value === '$') dollarDollar = true;
      if (node.type === 'path' && Array.isArray(node.steps)) {
        const [first, second] = node.steps as unknown[];
        if (isObj(first) && isObj(second) && first.type === 'variable' && first.value === 'states')
          if (second.type === 'name' && second.value === 'errorOutput') errorOutput = true;
      }
      for (const item of Object.values(node)) walk(item);
    };
    walk(ast);
    if (dollarDollar) unsupported(text.dollarDollar);
    if (errorOutput && !inCatch) unsupported(text.errorOutput);
  }

  /** A JSONata state's number field: a number in range, or a `{% %}` expression. */
  private jsonataNumber(value: unknown, check: (value: unknown) => void): void {
    if (typeof value === 'string' && jsonataExpression(value) !== undefined) return;
    check(value);
  }

  // ---------------------------------------------------------------------------------------------------
  // Retry / Catch
  // ---------------------------------------------------------------------------------------------------

  private errorEquals(retrierOrCatcher: Obj, at: string, last: boolean): void {
    const errors = retrierOrCatcher.ErrorEquals;
    if (errors === undefined) return;
    if (!Array.isArray(errors)) {
      this.fail(text.valueType('ARRAY'), `${at}/ErrorEquals`);
      return;
    }
    if (errors.length === 0) this.fail(text.empty, `${at}/ErrorEquals`);
    errors.forEach((name, i) => {
      if (typeof name !== 'string') this.fail(text.valueType('STRING'), `${at}/ErrorEquals[${i}]`);
    });
    if (errors.includes('States.ALL')) {
      if (errors.length > 1) this.fail(text.statesAllAlone, `${at}/ErrorEquals`);
      if (!last) this.fail(text.statesAllLast, at);
    }
  }

  private retry(value: unknown, at: string): void {
    if (!Array.isArray(value)) {
      this.fail(text.valueType('ARRAY'), at);
      return;
    }
    value.forEach((retrier, i) => {
      const here = `${at}[${i}]`;
      if (!isObj(retrier)) {
        this.fail(text.valueType('OBJECT'), here);
        return;
      }
      for (const key of Object.keys(retrier))
        if (!RETRIER_FIELDS.includes(key)) this.fail(text.notSupported(key), here);
      if (retrier.ErrorEquals === undefined) this.fail(text.required(['ErrorEquals']), here);
      this.errorEquals(retrier, here, i === value.length - 1);
      if (retrier.IntervalSeconds !== undefined)
        this.integer(retrier.IntervalSeconds, `${here}/IntervalSeconds`, 1, 99_999_999);
      if (retrier.MaxAttempts !== undefined)
        this.integer(retrier.MaxAttempts, `${here}/MaxAttempts`, 0, 99_999_999);
      if (retrier.MaxDelaySeconds !== undefined)
        this.integer(retrier.MaxDelaySeconds, `${here}/MaxDelaySeconds`, 1, 31_622_400);
      if (retrier.BackoffRate !== undefined)
        this.number(retrier.BackoffRate, `${here}/BackoffRate`, 1, undefined);
      if (retrier.JitterStrategy !== undefined)
        this.enumeration(retrier.JitterStrategy, `${here}/JitterStrategy`, ['FULL', 'NONE']);
      this.optionalString(retrier, 'Comment', here);
    });
  }

  private catch(value: unknown, at: string, language: Language): void {
    if (!Array.isArray(value)) {
      this.fail(text.valueType('ARRAY'), at);
      return;
    }
    value.forEach((catcher, i) => {
      const here = `${at}[${i}]`;
      if (!isObj(catcher)) {
        this.fail(text.valueType('OBJECT'), here);
        return;
      }
      this.fields(catcher, here, CATCHER_FIELDS, language, false, []);
      const missing = ['ErrorEquals', 'Next'].filter((field) => catcher[field] === undefined);
      if (missing.length > 0) this.fail(text.required(missing), here);
      if (catcher.Next !== undefined && typeof catcher.Next !== 'string')
        this.fail(text.valueType('STRING'), `${here}/Next`);
      this.errorEquals(catcher, here, i === value.length - 1);
      if (language === 'JSONPath' && catcher.ResultPath !== undefined && catcher.ResultPath !== null)
        this.referencePath(catcher.ResultPath, `${here}/ResultPath`, false);
      if (language === 'JSONata' && catcher.Output !== undefined)
        this.expressions(catcher.Output, `${here}/Output`, true);
      if (catcher.Assign !== undefined) this.assign(catcher.Assign, `${here}/Assign`, language, true);
      this.optionalString(catcher, 'Comment', here);
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // state types
  // ---------------------------------------------------------------------------------------------------

  private task({ state, at, language }: StateContext): void {
    const resource = state.Resource;
    if (resource === undefined) this.fail(text.required(['Resource']), at);
    else if (typeof resource !== 'string') this.fail(text.valueType('STRING'), `${at}/Resource`);
    else if (!/^arn:[^:]+:[^:]+:/.test(resource)) this.fail(text.resourceArn, `${at}/Resource`);
    else {
      // recorded: test_dynamodb_task_service.snapshot.json::test_invalid_integration
      const problem = resourceDefinitionError(resource);
      if (problem !== undefined) this.fail(problem, `${at}/Resource`);
      if (this.type === 'EXPRESS') {
        if (resource.endsWith('.waitForTaskToken')) this.fail(text.expressCallback, `${at}/Resource`);
        else if (/\.sync(:\d+)?$/.test(resource)) this.fail(text.expressSync, `${at}/Resource`);
        else if (/^arn:[^:]+:states:[^:]*:[^:]*:activity:/.test(resource))
          this.fail(text.expressActivity, `${at}/Resource`);
      }
    }
    this.exclusive(state, at, ['TimeoutSeconds', 'TimeoutSecondsPath']);
    this.exclusive(state, at, ['HeartbeatSeconds', 'HeartbeatSecondsPath']);
    for (const field of ['TimeoutSeconds', 'HeartbeatSeconds']) {
      const value = state[field];
      if (value === undefined) continue;
      const check = (v: unknown) => this.integer(v, `${at}/${field}`, 1, 99_999_999);
      if (language === 'JSONata') this.jsonataNumber(value, check);
      else check(value);
    }
    if (language === 'JSONPath')
      for (const field of ['TimeoutSecondsPath', 'HeartbeatSecondsPath'])
        if (state[field] !== undefined) this.referencePath(state[field], `${at}/${field}`, false);
    // States Language: "HeartbeatSeconds ... MUST be smaller than TimeoutSeconds" (static values).
    if (
      typeof state.HeartbeatSeconds === 'number' &&
      typeof state.TimeoutSeconds === 'number' &&
      state.HeartbeatSeconds >= state.TimeoutSeconds
    )
      this.fail(text.heartbeat, at);
    if (state.Credentials !== undefined) {
      const credentials = state.Credentials;
      if (!isObj(credentials)) this.fail(text.valueType('OBJECT'), `${at}/Credentials`);
      else if (
        credentials.RoleArn === undefined &&
        (language === 'JSONata' || credentials['RoleArn.$'] === undefined)
      )
        this.fail(text.roleArn, `${at}/Credentials`);
      else if (language === 'JSONPath') this.payloadTemplate(credentials, `${at}/Credentials`);
    }
  }

  private wait({ state, at, language }: StateContext): void {
    const fields =
      language === 'JSONPath'
        ? ['SecondsPath', 'Seconds', 'TimestampPath', 'Timestamp']
        : ['Seconds', 'Timestamp'];
    const present = fields.filter((field) => state[field] !== undefined);
    // reported (AWS texts quoted by third-party preflight rules); "none" not recorded
    if (present.length > 1) this.fail(text.onlyOne(fields), at);
    if (present.length === 0) this.fail(text.oneOf(fields), at);
    if (state.Seconds !== undefined) {
      const check = (v: unknown) => this.integer(v, `${at}/Seconds`, 0, 99_999_999);
      if (language === 'JSONata') this.jsonataNumber(state.Seconds, check);
      else check(state.Seconds);
    }
    const timestamp = state.Timestamp;
    if (timestamp !== undefined) {
      if (typeof timestamp !== 'string') this.fail(text.valueType('STRING'), `${at}/Timestamp`);
      else if (
        !(language === 'JSONata' && jsonataExpression(timestamp) !== undefined) &&
        !isTimestamp(timestamp)
      )
        this.fail(text.timestamp, `${at}/Timestamp`);
    }
    if (language === 'JSONPath')
      for (const field of ['SecondsPath', 'TimestampPath'])
        if (state[field] !== undefined) this.referencePath(state[field], `${at}/${field}`, false);
  }

  private failState({ state, at, language }: StateContext): void {
    this.exclusive(state, at, ['Error', 'ErrorPath']);
    this.exclusive(state, at, ['Cause', 'CausePath']);
    for (const field of ['Error', 'Cause']) this.optionalString(state, field, at);
    if (language === 'JSONPath')
      for (const field of ['ErrorPath', 'CausePath'])
        if (state[field] !== undefined) this.referencePath(state[field], `${at}/${field}`, true);
  }

  private parallel({ state, at }: StateContext): void {
    const branches = state.Branches;
    if (branches === undefined) {
      this.fail(text.required(['Branches']), at);
      return;
    }
    if (!Array.isArray(branches)) {
      this.fail(text.valueType('ARRAY'), `${at}/Branches`);
      return;
    }
    if (branches.length === 0) this.fail(text.empty, `${at}/Branches`);
    branches.forEach((branch, i) => {
      this.processor(branch, `${at}/Branches[${i}]`, ['StartAt', 'States', 'Comment']);
    });
  }

  private processor(node: unknown, at: string, allowed: readonly string[]): void {
    if (!isObj(node)) {
      this.fail(text.valueType('OBJECT'), at);
      return;
    }
    for (const key of Object.keys(node)) if (!allowed.includes(key)) this.fail(text.notSupported(key), at);
    this.optionalString(node, 'Comment', at);
    this.container(node, at, false);
  }

  private map({ state, at, language }: StateContext): void {
    const processors = ['ItemProcessor', 'Iterator'].filter((field) => state[field] !== undefined);
    if (processors.length > 1) this.fail(text.onlyOne(['ItemProcessor', 'Iterator']), at);
    if (processors.length === 0) this.fail(text.oneOf(['ItemProcessor', 'Iterator']), at);
    for (const field of processors) {
      const processor = state[field];
      this.processor(processor, `${at}/${field}`, ['StartAt', 'States', 'Comment', 'ProcessorConfig']);
      if (isObj(processor) && processor.ProcessorConfig !== undefined) {
        const config = processor.ProcessorConfig;
        const here = `${at}/${field}/ProcessorConfig`;
        if (!isObj(config)) this.fail(text.valueType('OBJECT'), here);
        else {
          for (const key of Object.keys(config))
            if (key !== 'Mode' && key !== 'ExecutionType') this.fail(text.notSupported(key), here);
          if (config.Mode !== undefined)
            this.enumeration(config.Mode, `${here}/Mode`, ['INLINE', 'DISTRIBUTED']);
          if (config.ExecutionType !== undefined)
            this.enumeration(config.ExecutionType, `${here}/ExecutionType`, ['STANDARD', 'EXPRESS']);
        }
      }
    }
    if (language === 'JSONPath') {
      if (state.ItemsPath !== undefined) this.referencePath(state.ItemsPath, `${at}/ItemsPath`, false);
      // "Only ItemsPath accepts the Context Object" (reported: floci-io/floci#3733)
      for (const field of [
        'MaxConcurrencyPath',
        'ToleratedFailureCountPath',
        'ToleratedFailurePercentagePath',
      ])
        if (state[field] !== undefined) this.referencePath(state[field], `${at}/${field}`, false, false);
      for (const field of ['ItemReader', 'ItemBatcher', 'ResultWriter']) {
        const value = state[field];
        if (isObj(value) && value.Parameters !== undefined)
          this.payloadTemplate(value.Parameters, `${at}/${field}/Parameters`);
      }
    }
    for (const [field, path] of [
      ['MaxConcurrency', 'MaxConcurrencyPath'],
      ['ToleratedFailureCount', 'ToleratedFailureCountPath'],
      ['ToleratedFailurePercentage', 'ToleratedFailurePercentagePath'],
    ] as const) {
      if (state[field] !== undefined && state[path] !== undefined)
        this.fail(text.onlyOne([field, path]), `${at}/${field}`);
      const value = state[field];
      if (value === undefined) continue;
      const check = (v: unknown) =>
        field === 'ToleratedFailurePercentage'
          ? this.number(v, `${at}/${field}`, 0, 100)
          : this.integer(v, `${at}/${field}`, 0, undefined);
      if (language === 'JSONata') this.jsonataNumber(value, check);
      else check(value);
    }
    for (const field of ['ItemReader', 'ItemBatcher', 'ResultWriter'])
      if (state[field] !== undefined && !isObj(state[field]))
        this.fail(text.valueType('OBJECT'), `${at}/${field}`);
    const label = state.Label;
    if (label !== undefined) {
      if (typeof label !== 'string') this.fail(text.valueType('STRING'), `${at}/Label`);
      // not recorded: AWS's limits on a Map Label (at most 40 characters, no whitespace, brackets, wildcards,
      // special or control characters)
      else if (
        label.length === 0 ||
        label.length > 40 ||
        /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(label) ||
        [...label].some(
          (c) =>
            (c.codePointAt(0) as number) < 0x20 ||
            ((c.codePointAt(0) as number) >= 0x7f && (c.codePointAt(0) as number) <= 0x9f),
        )
      )
        this.fail(text.label, `${at}/Label`, 'INVALID_LABEL_NAME');
    }
  }

  private choice({ state, at, language }: StateContext): void {
    const choices = state.Choices;
    if (state.Default !== undefined && typeof state.Default !== 'string')
      this.fail(text.valueType('STRING'), `${at}/Default`);
    if (choices === undefined) {
      this.fail(text.required(['Choices']), at);
      return;
    }
    if (!Array.isArray(choices)) {
      this.fail(text.valueType('ARRAY'), `${at}/Choices`);
      return;
    }
    if (choices.length === 0) this.fail(text.empty, `${at}/Choices`);
    choices.forEach((rule, i) => {
      this.rule(rule, `${at}/Choices[${i}]`, language, true);
    });
  }

  private rule(rule: unknown, at: string, language: Language, top: boolean): void {
    if (!isObj(rule)) {
      this.fail(text.valueType('OBJECT'), at);
      return;
    }
    const topOnly = ['Next', 'Assign'];
    const jsonataOnly = ['Condition', 'Output'];
    for (const key of Object.keys(rule)) {
      if (key === 'Comment') continue;
      if (topOnly.includes(key)) {
        if (!top) this.fail(text.notSupported(key), at);
        continue;
      }
      const jsonPathOnly =
        key === 'Variable' || key === 'And' || key === 'Or' || key === 'Not' || key in COMPARISONS;
      if (jsonataOnly.includes(key)) {
        if (!top) this.fail(text.notSupported(key), at);
        else if (language === 'JSONPath') this.fail(text.otherLanguage(language, key), at);
      } else if (jsonPathOnly) {
        if (language === 'JSONata') this.fail(text.otherLanguage(language, key), at);
      } else this.fail(text.notSupported(key), at);
    }
    if (top && rule.Next === undefined) this.fail(text.required(['Next']), at);
    if (top && rule.Next !== undefined && typeof rule.Next !== 'string')
      this.fail(text.valueType('STRING'), `${at}/Next`);
    if (top && rule.Assign !== undefined) this.assign(rule.Assign, `${at}/Assign`, language, false);
    if (language === 'JSONata') {
      if (!top) return;
      const condition = rule.Condition;
      if (condition === undefined) this.fail(text.required(['Condition']), at);
      else if (typeof condition === 'string') {
        const expression = jsonataExpression(condition);
        if (expression === undefined) this.fail(text.jsonataExpression, `${at}/Condition`);
        else this.expression(expression, `${at}/Condition`, false);
      } else if (typeof condition !== 'boolean') this.fail(text.jsonataExpression, `${at}/Condition`);
      if (rule.Output !== undefined) this.expressions(rule.Output, `${at}/Output`, false);
      return;
    }
    const selectors = ['And', 'Or', 'Not', 'Variable'].filter((key) => rule[key] !== undefined);
    if (selectors.length !== 1) {
      this.fail(text.ruleSelector, at);
      return;
    }
    const operators = Object.keys(rule).filter((key) => key in COMPARISONS);
    if (selectors[0] === 'Variable') {
      const variable = rule.Variable;
      if (typeof variable !== 'string') this.fail(text.valueType('STRING'), `${at}/Variable`);
      else if (!variable.startsWith('$')) this.fail(text.referencePathDollar, `${at}/Variable`);
      else if (parsePath(variable) === undefined) this.fail(text.jsonPath, `${at}/Variable`);
      if (operators.length === 0) this.fail(text.operator, at);
      else if (operators.length > 1) this.fail(text.onlyOne(operators), at);
      for (const operator of operators) this.comparison(operator, rule[operator], `${at}/${operator}`);
      return;
    }
    for (const operator of operators) this.fail(text.notSupported(operator), at);
    const nested = selectors[0] as 'And' | 'Or' | 'Not';
    const value = rule[nested];
    if (nested === 'Not') {
      this.rule(value, `${at}/Not`, language, false);
      return;
    }
    if (!Array.isArray(value)) {
      this.fail(text.valueType('ARRAY'), `${at}/${nested}`);
      return;
    }
    if (value.length === 0) this.fail(text.empty, `${at}/${nested}`);
    value.forEach((inner, i) => {
      this.rule(inner, `${at}/${nested}[${i}]`, language, false);
    });
  }

  private comparison(operator: string, value: unknown, location: string): void {
    switch (COMPARISONS[operator]) {
      case 'string':
        if (typeof value !== 'string') this.fail(text.valueType('STRING'), location);
        break;
      case 'number':
        if (typeof value !== 'number') this.fail(text.valueType('NUMBER'), location);
        break;
      case 'boolean':
      case 'test':
        if (typeof value !== 'boolean') this.fail(text.valueType('BOOLEAN'), location);
        break;
      case 'timestamp':
        if (typeof value !== 'string') this.fail(text.valueType('STRING'), location);
        else if (!isTimestamp(value)) this.fail(text.timestamp, location);
        break;
      case 'path':
        this.referencePath(value, location, false);
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // values
  // ---------------------------------------------------------------------------------------------------

  private exclusive(state: Obj, at: string, fields: readonly [string, string]): void {
    if (state[fields[0]] !== undefined && state[fields[1]] !== undefined)
      this.fail(text.onlyOne(fields), `${at}/${fields[0]}`);
  }

  private optionalString(node: Obj, field: string, at: string): void {
    if (node[field] !== undefined && typeof node[field] !== 'string')
      this.fail(text.valueType('STRING'), `${at}/${field}`);
  }

  private integer(value: unknown, location: string, min: number, max: number | undefined): void {
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(text.valueType('INTEGER'), location);
    else if (value < min) this.fail(text.minimum(String(min)), location);
    else if (max !== undefined && value > max) this.fail(text.maximum(String(max)), location);
  }

  private number(value: unknown, location: string, min: number, max: number | undefined): void {
    if (typeof value !== 'number') this.fail(text.valueType('NUMBER'), location);
    else if (value < min) this.fail(text.minimum(min.toFixed(1)), location);
    else if (max !== undefined && value > max) this.fail(text.maximum(max.toFixed(1)), location);
  }

  private enumeration(value: unknown, location: string, values: readonly string[]): void {
    if (typeof value !== 'string') this.fail(text.valueType('STRING'), location);
    else if (!values.includes(value)) this.fail(text.enumValue(values), location);
  }
}

interface StateContext {
  state: Obj;
  at: string;
  language: Language;
  type: StateType;
}

// -----------------------------------------------------------------------------------------------------
// syntax: JSONata templates, timestamps, JSONPath, intrinsic functions
// -----------------------------------------------------------------------------------------------------

/** The expression of a `{% ... %}` template string; `undefined` for a literal string. */
function jsonataExpression(value: string): string | undefined {
  return value.startsWith('{%') && value.endsWith('%}') && value.length >= 4 ? value.slice(2, -2) : undefined;
}

/** RFC 3339 with an uppercase T and a Z or numeric offset (States Language "Timestamps"). */
function isTimestamp(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/.exec(
    value,
  );
  if (!match) return false;
  const [, year, month, day, hour, minute, second, , , offsetHour, offsetMinute] = match.map(Number);
  const days = new Date(Date.UTC(year as number, month as number, 0)).getUTCDate();
  return (
    (month as number) >= 1 &&
    (month as number) <= 12 &&
    (day as number) >= 1 &&
    (day as number) <= days &&
    (hour as number) <= 23 &&
    (minute as number) <= 59 &&
    (second as number) <= 60 &&
    (offsetHour === undefined || Number.isNaN(offsetHour) || offsetHour <= 23) &&
    (offsetMinute === undefined || Number.isNaN(offsetMinute) || offsetMinute <= 59)
  );
}

interface ParsedPath {
  root: '$' | '$$' | 'variable';
  /** Selects at most one node: only `.name`, `['name']` and `[n]` steps. */
  reference: boolean;
}

/** A JSONPath (`$`, `$$` Context Object, `$name` variable) as AWS accepts it; `undefined` when malformed. */
function parsePath(path: string): ParsedPath | undefined {
  let i = 1;
  let root: ParsedPath['root'] = '$';
  if (!path.startsWith('$')) return undefined;
  if (path[1] === '$') {
    root = '$$';
    i = 2;
  } else {
    const variable = /^[A-Za-z_][A-Za-z0-9_]*/.exec(path.slice(1));
    if (variable) {
      root = 'variable';
      i = 1 + variable[0].length;
    }
  }
  let reference = true;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      if (path[i + 1] === '.') {
        reference = false;
        i += 2;
        if (path[i] === '[') continue;
      } else {
        i += 1;
        // Jayway takes `$.[...]` as `$[...]`
        if (path[i] === '[') continue;
      }
      const start = i;
      while (i < path.length && path[i] !== '.' && path[i] !== '[') {
        if (path[i] === '(') {
          const end = path.indexOf(')', i);
          if (end < 0) return undefined;
          reference = false;
          i = end + 1;
          continue;
        }
        i += 1;
      }
      const name = path.slice(start, i);
      if (name === '') return undefined;
      if (name === '*' || /\s/.test(name)) reference = false;
    } else if (c === '[') {
      const end = closingBracket(path, i);
      if (end < 0) return undefined;
      const inner = path.slice(i + 1, end).trim();
      if (inner === '') return undefined;
      if (!/^(\d+|'[^']*'|"[^"]*")$/.test(inner)) reference = false;
      i = end + 1;
    } else return undefined;
  }
  return { root, reference };
}

/** The index of the `]` closing the `[` at `open` (quotes and nested brackets/parentheses skipped); -1 if none. */
function closingBracket(path: string, open: number): number {
  let depth = 0;
  for (let i = open; i < path.length; i += 1) {
    const c = path[i];
    if (c === "'" || c === '"') {
      const end = path.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (c === '[' || c === '(') depth += 1;
    else if (c === ']' || c === ')') {
      depth -= 1;
      if (depth === 0) return c === ']' ? i : -1;
    }
  }
  return -1;
}

function isPathOrIntrinsic(value: string): boolean {
  return value.startsWith('States.') ? isIntrinsicCall(value) : parsePath(value) !== undefined;
}

/**
 * An intrinsic function call, as AWS parses it at creation: `States.<Name>(<args>)`, arguments being
 * string literals (`'...'`, escapes `\'` `\{` `\}` `\\` only), numbers, booleans, null, paths and calls.
 */
function isIntrinsicCall(value: string): boolean {
  const parser = new IntrinsicParser(value);
  return parser.call() && parser.atEnd();
}

class IntrinsicParser {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    this.space();
    return this.i === this.s.length;
  }

  private space(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t' || this.s[this.i] === '\n') this.i += 1;
  }

  call(): boolean {
    this.space();
    const match = /^States\.([A-Za-z0-9]+)\(/.exec(this.s.slice(this.i));
    if (!match || !INTRINSICS.has(match[1] as string)) return false;
    this.i += match[0].length;
    this.space();
    if (this.s[this.i] === ')') {
      this.i += 1;
      return true;
    }
    for (;;) {
      if (!this.argument()) return false;
      this.space();
      const c = this.s[this.i];
      this.i += 1;
      if (c === ')') return true;
      if (c !== ',') return false;
    }
  }

  private argument(): boolean {
    this.space();
    const rest = this.s.slice(this.i);
    if (rest.startsWith("'")) return this.string();
    if (rest.startsWith('States.')) return this.call();
    if (rest.startsWith('$')) return this.path();
    const literal = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?=\s*[,)])/.exec(rest);
    if (!literal) return false;
    this.i += literal[0].length;
    return true;
  }

  private string(): boolean {
    this.i += 1;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '\\') {
        const next = this.s[this.i + 1];
        if (next !== "'" && next !== '{' && next !== '}' && next !== '\\') return false;
        this.i += 2;
      } else if (c === "'") {
        this.i += 1;
        return true;
      } else this.i += 1;
    }
    return false;
  }

  private path(): boolean {
    const start = this.i;
    let depth = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (c === "'" || c === '"') {
        const end = this.s.indexOf(c, this.i + 1);
        if (end < 0) return false;
        this.i = end + 1;
        continue;
      }
      if (c === '[' || c === '(') depth += 1;
      else if (c === ']' || (c === ')' && depth > 0)) depth -= 1;
      else if (depth === 0 && (c === ',' || c === ')')) break;
      this.i += 1;
    }
    return parsePath(this.s.slice(start, this.i).trim()) !== undefined;
  }
}
