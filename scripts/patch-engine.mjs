#!/usr/bin/env node
/**
 * Patches aws-local-stepfunctions' Node bundles where the library differs from AWS Step Functions.
 *
 * Run by `npm ci` / `npm install` (package.json "postinstall"), or by hand: `node scripts/patch-engine.mjs`.
 * `node scripts/patch-engine.mjs --check` only verifies (exit 1 with the reason when not patched).
 *
 * How it works (zero dependencies):
 * - Each patch below names the AWS behaviour, why the library differs, and the exact upstream code it
 *   replaces (`find`, matched as a string, with the number of occurrences expected in each bundle).
 * - Patches are always applied to the pristine bundle: the first run keeps it next to the bundle as
 *   `<bundle>.stepsaga-orig`, later runs start from that copy. Running again is a no-op when nothing
 *   changed, and picks up edited or added patches without reinstalling the package.
 * - An anchor that is missing or found a different number of times (a library upgrade) fails the run,
 *   naming the patch and the bundle; nothing is written then.
 * - Every patched bundle starts with the line `// stepsaga-patches:<count>:<fingerprint> ...` and
 *   exports `stepsagaPatches` ({count, fingerprint, ids}), so the runtime can refuse to start unpatched.
 *   `verifyEnginePatches()` (exported) checks both bundles against this file's current patch list.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The version the anchors were written against (package.json pins it exactly). */
export const ENGINE_PACKAGE = 'aws-local-stepfunctions';
export const ENGINE_VERSION = '3.0.0';
export const ENGINE_BUNDLES = ['build/main.node.esm.js', 'build/main.node.cjs'];

const ORIGINAL_SUFFIX = '.stepsaga-orig';
const HEADER_PREFIX = '// stepsaga-patches:';

/**
 * @typedef {{ find: string, replace: string, count?: number }} Edit  count: occurrences per bundle (default 1)
 * @typedef {{ id: string, aws: string, why: string, edits: Edit[] }} Patch
 * @type {Patch[]}
 */
export const PATCHES = [
  {
    id: 'intrinsic-escapes',
    aws:
      "In an intrinsic function's string literal, a backslash escapes the next character (\\' \\{ \\} \\\\); " +
      'parentheses and commas inside a literal are text. Strings read from the input are never altered.',
    why:
      'The library deleted every backslash from every string an intrinsic returned (so JsonToString of a ' +
      'string holding a quote gave invalid JSON) and counted parentheses inside literals when splitting arguments.',
    edits: [
      {
        find: String.raw`    if (char === "(") {
      parensCount++;
    } else if (char === ")") {
      parensCount--;
    }
    if (char === "'" && partialArg[partialArg.length - 1] !== "\\") {
      if (apostropheCount === 1) {
        apostropheCount--;
      } else {
        apostropheCount++;
      }
    }
`,
        replace: String.raw`    /* stepsaga-patch:intrinsic-escapes */
    if (apostropheCount === 1 && char === "\\" && i < funcArgs.length - 2) {
      partialArg += char + funcArgs[++i];
      continue;
    }
    if (char === "'") {
      apostropheCount = 1 - apostropheCount;
    } else if (apostropheCount === 0 && char === "(") {
      parensCount++;
    } else if (apostropheCount === 0 && char === ")") {
      parensCount--;
    }
`,
      },
      {
        find: '      return arg.slice(1, lastSingleQuote);\n',
        replace: String.raw`      return arg.slice(1, lastSingleQuote).replace(/\\(.)/gs, "$1"); /* stepsaga-patch:intrinsic-escapes */
`,
      },
      {
        find: String.raw`    let result = this.execute(...parsedArgs);
    if (typeof result === "string") {
      result = result.replaceAll("\\", "");
    }
    return result;
`,
        replace: '    return this.execute(...parsedArgs); /* stepsaga-patch:intrinsic-escapes */\n',
      },
    ],
  },
  {
    id: 'intrinsic-format',
    aws:
      'States.Format accepts any JSON value: objects and arrays print Java-style ({Arg1=1, Arg2=[a, b]}, strings ' +
      'unquoted); \\{ and \\} in a literal template are braces, not placeholders.',
    why: 'The library rejected object/array arguments with States.Runtime and read escaped braces as placeholders.',
    edits: [
      {
        find: `      variadicArguments: {
        allowedTypes: ["string", "boolean", "number", "null"]
      }
`,
        replace: `      variadicArguments: {
        allowedTypes: ["any"] /* stepsaga-patch:intrinsic-format */
      }
`,
      },
      {
        find: '  execute(templateStr, ...placeholderValues) {\n',
        replace: String.raw`  /* stepsaga-patch:intrinsic-format */
  call(input, context, ...args) {
    const parsedArgs = parseArguments(input, context, ...args);
    validateArguments(this.funcDefinition, ...parsedArgs);
    const [template, ...values] = parsedArgs;
    const isLiteral = args[0][0] === "'";
    const source = isLiteral ? args[0].slice(1, args[0].lastIndexOf("'")) : template;
    const pieces = [""];
    for (let i = 0; i < source.length; i++) {
      const char = source[i];
      if (isLiteral && char === "\\" && i + 1 < source.length) {
        pieces[pieces.length - 1] += source[++i];
      } else if (char === "{" && source[i + 1] === "}") {
        pieces.push("");
        i++;
      } else {
        pieces[pieces.length - 1] += char;
      }
    }
    if (pieces.length - 1 !== values.length) {
      throw new StatesRuntimeError(
        "Number of arguments in " + this.funcDefinition.name + " do not match the occurrences of {}"
      );
    }
    return pieces.reduce((text, piece, i) => text + StatesFormat.formatValue(values[i - 1]) + piece);
  }
  static formatValue(value) {
    if (value === null) return "null";
    if (Array.isArray(value)) return "[" + value.map((item) => StatesFormat.formatValue(item)).join(", ") + "]";
    if (typeof value === "object") {
      const entries = Object.entries(value).map(([key, item]) => key + "=" + StatesFormat.formatValue(item));
      return "{" + entries.join(", ") + "}";
    }
    return String(value);
  }
  execute(templateStr, ...placeholderValues) {
`,
      },
    ],
  },
  {
    id: 'intrinsic-string-split',
    aws:
      'States.StringSplit treats every character of the separator as a delimiter and drops empty tokens ' +
      '(Java StringTokenizer): StringSplit(",,a,,b", ",") is ["a", "b"].',
    why: 'The library used String.prototype.split(separator): the whole separator, empty tokens kept.',
    edits: [
      {
        find: '    return str.split(separator);\n',
        replace: `    /* stepsaga-patch:intrinsic-string-split */
    const tokens = [];
    let token = "";
    for (const char of str) {
      if (separator.includes(char)) {
        if (token !== "") tokens.push(token);
        token = "";
      } else {
        token += char;
      }
    }
    if (token !== "") tokens.push(token);
    return tokens;
`,
      },
    ],
  },
  {
    id: 'intrinsic-math-add',
    aws: 'States.MathAdd rounds each argument half up (Java Math.round) before adding: MathAdd(1.49, 1.5) is 3.',
    why: 'The library added the raw numbers (2.99).',
    edits: [
      {
        find: '    return num1 + num2;\n',
        replace:
          '    return Math.round(num1) + Math.round(num2) + 0; /* stepsaga-patch:intrinsic-math-add */\n',
      },
    ],
  },
  {
    id: 'intrinsic-string-to-json',
    aws: 'States.StringToJson of an empty or blank string is null; text that is not JSON fails with States.Runtime.',
    why: 'The library threw a bare JavaScript SyntaxError, which surfaced as the error name "SyntaxError".',
    edits: [
      {
        find: '    return JSON.parse(jsonString);\n',
        replace: `    /* stepsaga-patch:intrinsic-string-to-json */
    if (jsonString.trim() === "") return null;
    try {
      return JSON.parse(jsonString);
    } catch (error) {
      throw new StatesRuntimeError(
        "Intrinsic function States.StringToJson could not parse its argument as JSON: " + error.message
      );
    }
`,
      },
    ],
  },
  {
    id: 'intrinsic-math-random',
    aws: 'States.MathRandom rounds non-integer start/end numbers to the nearest integer: MathRandom(12.5, 44.51) works.',
    why: 'The library rejected non-integer bounds with States.Runtime.',
    edits: [
      {
        find: `      name: "States.MathRandom",
      minArgs: 2,
      arguments: [
        {
          allowedTypes: ["number"],
          constraints: ["INTEGER"]
        },
        {
          allowedTypes: ["number"],
          constraints: ["INTEGER"]
        },
`,
        replace: `      name: "States.MathRandom",
      minArgs: 2,
      arguments: [
        /* stepsaga-patch:intrinsic-math-random */
        {
          allowedTypes: ["number"]
        },
        {
          allowedTypes: ["number"]
        },
`,
      },
      {
        find: '    return getRandomNumber(min, max, rng);\n',
        replace:
          '    return getRandomNumber(Math.round(min), Math.round(max), rng); /* stepsaga-patch:intrinsic-math-random */\n',
      },
    ],
  },
  {
    id: 'choice-is-false',
    aws: 'Choice IsNull/IsPresent/IsNumeric/IsString/IsBoolean/IsTimestamp: false match when the test is false.',
    why: 'The library returned `flag && test`, so a rule with `false` never matched.',
    edits: [
      ['isNullTrue && varValue === null', '(varValue === null) === isNullTrue'],
      ['IsPresentTrue && varValue !== void 0', '(varValue !== void 0) === IsPresentTrue'],
      ['IsNumericTrue && typeof varValue === "number"', '(typeof varValue === "number") === IsNumericTrue'],
      ['IsStringTrue && typeof varValue === "string"', '(typeof varValue === "string") === IsStringTrue'],
      ['IsBooleanTrue && typeof varValue === "boolean"', '(typeof varValue === "boolean") === IsBooleanTrue'],
      ['IsTimestampTrue && isRFC3339Timestamp(varValue)', 'isRFC3339Timestamp(varValue) === IsTimestampTrue'],
    ].map(([upstream, patched]) => ({
      find: `      return ${upstream};\n`,
      replace: `      return ${patched}; /* stepsaga-patch:choice-is-false */\n`,
    })),
  },
  {
    id: 'jsonpath-indefinite',
    aws:
      'An indefinite JSONPath ([*], .., [?(...)], [a:b], [a,b], .*) always yields an array: [] when nothing ' +
      'matches (even a missing property), [x] for one match.',
    why:
      'The library queried with wrap: false: no match failed with States.Runtime ("does not point to a value") ' +
      'and a single match came back unwrapped.',
    edits: [
      {
        find: 'function jsonPathQuery(pathExpression, json, context, options) {\n',
        replace: String.raw`/* stepsaga-patch:jsonpath-indefinite */
function isIndefinitePath(pathExpression) {
  const unquoted = pathExpression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
  return /\.\.|\*|\[\s*\?|\[[^\]]*[:,][^\]]*\]/.test(unquoted);
}
function jsonPathQuery(pathExpression, json, context, options) {
`,
      },
      {
        find: 'wrap: false })',
        replace: 'wrap: isIndefinitePath(pathExpression) })',
        count: 2,
      },
    ],
  },
  {
    id: 'fail-paths-intrinsic',
    aws: "A Fail state's ErrorPath and CausePath may be an intrinsic function (States.Format(...)) over the state input.",
    why: 'The library only evaluated them as JSONPath.',
    edits: [
      {
        find: `    if (state.ErrorPath) {
      error = jsonPathQuery(state.ErrorPath, input, context, {
        constraints: [StringConstraint]
      });
    }
    if (state.CausePath) {
      cause = jsonPathQuery(state.CausePath, input, context, {
        constraints: [StringConstraint]
      });
    }
`,
        replace: `    /* stepsaga-patch:fail-paths-intrinsic */
    const resolveString = (path) => {
      const value = path.startsWith("States.") ? evaluateIntrinsicFunction(path, input, context) : jsonPathQuery(path, input, context);
      new StringConstraint(path).test(value);
      return value;
    };
    if (state.ErrorPath) {
      error = resolveString(state.ErrorPath);
    }
    if (state.CausePath) {
      cause = resolveString(state.CausePath);
    }
`,
      },
    ],
  },
  {
    id: 'wait-long-delays',
    aws:
      'A Wait may last as long as the execution (up to a year); a delay beyond 2^31-1 seconds fails at once with ' +
      'States.Runtime "Wait state delay is too long.". A SecondsPath value that is not an integer or is negative, ' +
      'or a TimestampPath value without a zone offset, fails with States.Runtime naming the path and value ' +
      '("The SecondsPath parameter references a negative value: $.p == -1"). AWS prefixes these causes with ' +
      '"An error occurred while executing the state \'X\' (entered at the event id #N). ": the errors carry ' +
      '`stateExecutionFailure: true` so the runtime, which knows the event ids, can add it.',
    why:
      "Node's setTimeout overflows beyond 2^31-1 ms (about 24.8 days) and fires at once, so long waits (and long " +
      'retry intervals) ended immediately; path errors had the generic "Path expression ..." texts.',
    edits: [
      {
        find: `function sleep(ms, abortSignal) {
  if (ms === 0) return;
  return new Promise((resolve) => {
    if (abortSignal?.aborted) {
      return resolve();
    }
    const onAbort = () => {
      clearTimeout(timeout);
      resolve();
    };
    const timeout = setTimeout(() => {
      abortSignal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    abortSignal?.addEventListener("abort", onAbort, { once: true });
  });
}
`,
        replace: `/* stepsaga-patch:wait-long-delays */
var MAX_TIMER_DELAY_MS = 2147483647;
var MAX_WAIT_DELAY_SECONDS = 2147483647;
function waitStateError(message) {
  const error = new StatesRuntimeError(message);
  error.stateExecutionFailure = true;
  return error;
}
function waitDelayMs(ms) {
  if (ms > MAX_WAIT_DELAY_SECONDS * 1e3) {
    throw waitStateError("Wait state delay is too long.");
  }
  return ms;
}
function sleep(ms, abortSignal) {
  if (ms === 0) return;
  return new Promise((resolve) => {
    if (abortSignal?.aborted) {
      return resolve();
    }
    const deadline = Date.now() + ms;
    let timeout;
    const onAbort = () => {
      clearTimeout(timeout);
      resolve();
    };
    const arm = () => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        abortSignal?.removeEventListener("abort", onAbort);
        resolve();
        return;
      }
      timeout = setTimeout(arm, Math.min(remaining, MAX_TIMER_DELAY_MS));
    };
    abortSignal?.addEventListener("abort", onAbort, { once: true });
    arm();
  });
}
`,
      },
      {
        find: `    } else if (state.SecondsPath) {
      const seconds = jsonPathQuery(state.SecondsPath, input, context, {
        constraints: [IntegerConstraint.greaterThanOrEqual(0)]
      });
      await sleep(seconds * 1e3, options.abortSignal);
    } else if (state.TimestampPath) {
      const timestamp = jsonPathQuery(state.TimestampPath, input, context, {
        constraints: [RFC3339TimestampConstraint]
      });
`,
        replace: `    } else if (state.SecondsPath) {
      /* stepsaga-patch:wait-long-delays */
      const seconds = jsonPathQuery(state.SecondsPath, input, context);
      const shown = state.SecondsPath + " == " + (typeof seconds === "string" ? seconds : JSON.stringify(seconds));
      if (!Number.isInteger(seconds)) {
        throw waitStateError("The SecondsPath parameter cannot be parsed as a long value: " + shown);
      }
      if (seconds < 0) {
        throw waitStateError("The SecondsPath parameter references a negative value: " + shown);
      }
      await sleep(waitDelayMs(seconds * 1e3), options.abortSignal);
    } else if (state.TimestampPath) {
      const timestamp = jsonPathQuery(state.TimestampPath, input, context);
      if (typeof timestamp !== "string" || !isRFC3339Timestamp(timestamp)) {
        const shown = typeof timestamp === "string" ? timestamp : JSON.stringify(timestamp);
        throw waitStateError(
          "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: " +
            state.TimestampPath + " == " + shown
        );
      }
`,
      },
      ...['state.Seconds * 1e3', 'timeDiff'].map((delay) => ({
        find: `      await sleep(${delay}, options.abortSignal);\n`,
        replace: `      await sleep(waitDelayMs(${delay}), options.abortSignal); /* stepsaga-patch:wait-long-delays */\n`,
        count: delay === 'timeDiff' ? 2 : 1,
      })),
    ],
  },
  {
    id: 'map-max-concurrency-path',
    aws:
      'A MaxConcurrencyPath value must be a non-negative integer, or a string holding one ("1", read like ' +
      "Java's Integer.parseInt); anything else fails with States.Runtime: The " +
      'MaxConcurrencyPath field refers to value "<value>" which is not a valid integer: <path> (prefixed by ' +
      'the runtime like the Wait errors: the error carries `stateExecutionFailure: true`).',
    why: 'The library reported its generic "Path expression ... evaluated to ..." text.',
    edits: [
      {
        find: `      maxConcurrency = jsonPathQuery(state.MaxConcurrencyPath, input, context, {
        constraints: [IntegerConstraint.greaterThanOrEqual(0)],
        ignoreDefinedValueConstraint: true
      });
`,
        replace: `      /* stepsaga-patch:map-max-concurrency-path */
      maxConcurrency = jsonPathQuery(state.MaxConcurrencyPath, input, context, { ignoreDefinedValueConstraint: true });
      if (typeof maxConcurrency === "string" && /^[+-]?\\d{1,9}$/.test(maxConcurrency)) maxConcurrency = Number(maxConcurrency);
      if (maxConcurrency !== void 0 && (!Number.isInteger(maxConcurrency) || maxConcurrency < 0)) {
        const shown = typeof maxConcurrency === "string" ? maxConcurrency : JSON.stringify(maxConcurrency);
        const error = new StatesRuntimeError(
          'The MaxConcurrencyPath field refers to value "' + shown + '" which is not a valid integer: ' + state.MaxConcurrencyPath
        );
        error.stateExecutionFailure = true;
        throw error;
      }
`,
      },
    ],
  },
  {
    id: 'map-stop-after-failure',
    aws: 'Once an iteration fails (and the Map fails), the Map starts no further items.',
    why:
      'The library aborted the running iterations but left the queued ones in p-limit, so with MaxConcurrency ' +
      'they kept starting after the failure.',
    edits: [
      {
        find: '      (item, i) => limit(() => this.processItem(iteratorStateMachine, item, input, context, i, options))\n',
        replace: `      (item, i) => limit(() => {
        /* stepsaga-patch:map-stop-after-failure */
        if (this.iterationFailed) return null;
        let iteration;
        try {
          iteration = this.processItem(iteratorStateMachine, item, input, context, i, options);
        } catch (error) {
          this.iterationFailed = true;
          throw error;
        }
        iteration.catch(() => {
          this.iterationFailed = true;
        });
        return iteration;
      })
`,
      },
    ],
  },
  {
    id: 'nested-events-before-exit',
    aws:
      'Every event of a Map iteration or Parallel branch (also of nested Map/Parallel states) is in the history ' +
      'before the Map/Parallel state succeeds or fails.',
    why:
      'The library forwarded nested events without awaiting them; events forwarded through two levels arrived ' +
      "after the inner execution's event log had closed and were dropped (a MapIterationSucceeded went missing).",
    edits: [
      {
        find: '    this.executionAbortFuncs = [];\n',
        replace:
          '    this.executionAbortFuncs = [];\n    this.eventForwarding = []; /* stepsaga-patch:nested-events-before-exit */\n',
        count: 2,
      },
      {
        find: '    this.forwardEventsToRootEventLogger(options.eventLogger, execution.eventLogs, index, options.rawInput);\n',
        replace:
          '    this.eventForwarding.push(this.forwardEventsToRootEventLogger(options.eventLogger, execution.eventLogs, index, options.rawInput)); /* stepsaga-patch:nested-events-before-exit */\n',
      },
      {
        find: '    this.forwardEventsToRootEventLogger(options.eventLogger, execution.eventLogs, options.rawInput);\n',
        replace:
          '    this.eventForwarding.push(this.forwardEventsToRootEventLogger(options.eventLogger, execution.eventLogs, options.rawInput)); /* stepsaga-patch:nested-events-before-exit */\n',
      },
      {
        find: `      return this.buildExecutionResult(result);
    } catch (error) {
      this.executionAbortFuncs.forEach((abort) => abort());
`,
        replace: `      await Promise.allSettled(this.eventForwarding); /* stepsaga-patch:nested-events-before-exit */
      return this.buildExecutionResult(result);
    } catch (error) {
      this.executionAbortFuncs.forEach((abort) => abort());
      await Promise.allSettled(this.eventForwarding); /* stepsaga-patch:nested-events-before-exit */
`,
        count: 2,
      },
    ],
  },
  {
    id: 'intrinsic-json-merge-copy',
    aws: 'States.JsonMerge returns a new object; the objects it merges (the state input, a Pass Result) are unchanged.',
    why:
      'The library merged into its first argument (Object.assign), changing the value the path pointed at: ' +
      "an Assign evaluated after it saw the merged object in the input or in the Pass state's Result.",
    edits: [
      {
        find: '    return Object.assign(obj1, obj2);\n',
        replace: '    return { ...obj1, ...obj2 }; /* stepsaga-patch:intrinsic-json-merge-copy */\n',
      },
    ],
  },
  {
    id: 'variables',
    aws:
      "Workflow variables (JSONPath): a state's Assign (Pass, Task, Map, Parallel, Wait, Choice and its rules, " +
      "Catch) is evaluated once the state's work is done, `$` being its result (Pass: Parameters/Result; " +
      'Task/Map/Parallel: the raw result, before ResultSelector; Wait/Choice: the input after InputPath; Catch: ' +
      'the error output), every field with the values from before the state; the values are set once the state ' +
      'has processed its output (its own OutputPath still sees the old ones). A Choice applies its matching ' +
      "rule's Assign, or its own when it takes Default. `$name`, `$name.field`, `$name[0]` read a variable " +
      'wherever a path is allowed (InputPath, Parameters, ItemsPath, Choice, Wait, Fail paths, intrinsic ' +
      'arguments...). Map iterations and Parallel branches see the outer variables read-only: what they assign ' +
      'stays in the iteration/branch.',
    why: 'The library knew no variables: Assign was ignored and `$name` read the field "name" of nothing.',
    edits: [
      {
        find: 'function jsonPathQuery(pathExpression, json, context, options) {\n',
        replace: `/* stepsaga-patch:variables */
var STEPSAGA_VARIABLES = Symbol.for("stepsaga.variables");
var VARIABLE_REFERENCE = /^\\$([\\p{L}_][\\p{L}\\p{N}_]*)(.*)$/su;
function readVariable(name, rest, context, pathExpression) {
  const scope = context?.[STEPSAGA_VARIABLES];
  if (!scope || !(name in scope)) {
    throw new StatesRuntimeError("Invalid path '" + pathExpression + "': the variable '" + name + "' has not been assigned");
  }
  const value = scope[name];
  if (rest === "") return value;
  return jp({ path: "$" + rest, json: value, wrap: isIndefinitePath(pathExpression) });
}
function jsonPathQuery(pathExpression, json, context, options) {
`,
      },
      {
        find: '  let evaluation;\n  if (pathExpression.startsWith("$$")) {\n',
        replace: `  let evaluation;
  const variable = VARIABLE_REFERENCE.exec(pathExpression); /* stepsaga-patch:variables */
  if (variable) {
    evaluation = readVariable(variable[1], variable[2], context, pathExpression);
  } else if (pathExpression.startsWith("$$")) {
`,
      },
      {
        find: '// src/stateMachine/stateActions/BaseStateAction.ts\n',
        replace: `/* stepsaga-patch:variables */
function evaluateAssignment(template, json, context) {
  if (template === void 0 || template === null) return void 0;
  return cloneJSON(processPayloadTemplate(template, json, context));
}
function applyAssignment(context, assignment) {
  if (assignment === void 0) return;
  const scope = context[STEPSAGA_VARIABLES];
  for (const [name, value] of Object.entries(assignment)) scope[name] = value;
}

// src/stateMachine/stateActions/BaseStateAction.ts
`,
      },
      {
        find: `        StartTime: (/* @__PURE__ */ new Date()).toISOString()
      }
    };
`,
        replace: `        StartTime: (/* @__PURE__ */ new Date()).toISOString()
      }
    };
    /* stepsaga-patch:variables */
    Object.defineProperty(context, STEPSAGA_VARIABLES, {
      value: Object.create(options.runOptions?._outerVariables ?? null)
    });
`,
      },
      {
        find: '    const execution = stateMachine.run(paramValue ?? item, options.runOptions);\n',
        replace:
          '    const execution = stateMachine.run(paramValue ?? item, { ...options.runOptions, _outerVariables: context[STEPSAGA_VARIABLES] }); /* stepsaga-patch:variables */\n',
      },
      {
        find: '    const execution = stateMachine.run(input, options.runOptions);\n',
        replace:
          '    const execution = stateMachine.run(input, { ...options.runOptions, _outerVariables: context[STEPSAGA_VARIABLES] }); /* stepsaga-patch:variables */\n',
      },
      {
        find: '        return { stateResult: input, nextState: choice.Next, isEndState: false };\n',
        replace:
          '        return { stateResult: input, nextState: choice.Next, isEndState: false, assign: choice.Assign }; /* stepsaga-patch:variables */\n',
      },
      {
        find: '      return { stateResult: input, nextState: state.Default, isEndState: false };\n',
        replace:
          '      return { stateResult: input, nextState: state.Default, isEndState: false, assign: state.Assign }; /* stepsaga-patch:variables */\n',
      },
      {
        find: `        nextState,
        isEndState
      } = await this.stateHandlers`,
        replace: `        nextState,
        isEndState,
        assign: choiceAssign /* stepsaga-patch:variables */
      } = await this.stateHandlers`,
      },
      {
        find: `      const processedResult = this.processResult(currResult, rawInput, context);
      return { stateResult: processedResult, nextState, isEndState };
`,
        replace: `      /* stepsaga-patch:variables */
      const assignTemplate = this.stateDefinition.Type === "Choice" ? choiceAssign : this.stateDefinition.Assign;
      const assignment = evaluateAssignment(assignTemplate, currResult, context);
      const processedResult = this.processResult(currResult, rawInput, context);
      applyAssignment(context, assignment);
      return { stateResult: processedResult, nextState, isEndState };
`,
      },
      {
        find: '        return { stateResult: processResultPath(resultPath, rawInput, errorOutput), nextState, isEndState: false };\n',
        replace: `        /* stepsaga-patch:variables */
        const stateResult = processResultPath(resultPath, rawInput, errorOutput);
        applyAssignment(context, evaluateAssignment(stateDefinition.Catch[catcherIndex].Assign, errorOutput, context));
        return { stateResult, nextState, isEndState: false };
`,
      },
    ],
  },
  {
    id: 'javascript-errors-are-runtime',
    aws:
      'A state that fails while evaluating its own fields fails with States.Runtime, which no Retry or Catch ' +
      'matches (not even States.ALL); an error never carries a JavaScript class name.',
    why:
      'A JavaScript error raised inside the library (a SyntaxError from JSON.parse of a malformed intrinsic ' +
      'argument, a TypeError...) reached Retry/Catch under its own name, so States.ALL (or a catcher naming ' +
      '"TypeError") caught it. Only instances of the built-in classes are converted: the Task errors the local ' +
      'cloud\'s handlers throw (a function\'s "TypeError" is a TaskError named so) keep their names.',
    edits: [
      {
        find: '// src/stateMachine/StateExecutor.ts\n',
        replace: `// src/stateMachine/StateExecutor.ts
/* stepsaga-patch:javascript-errors-are-runtime */
var JAVASCRIPT_ERROR_PROTOTYPES = new Set(
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map((errorClass) => errorClass.prototype)
);
function asStatesError(error) {
  if (error === null || typeof error !== "object" || !JAVASCRIPT_ERROR_PROTOTYPES.has(Object.getPrototypeOf(error))) {
    return error;
  }
  const runtimeError = new StatesRuntimeError(error.message || String(error));
  runtimeError.cause = error;
  return runtimeError;
}
`,
      },
      {
        find: '    } catch (error) {\n      options.eventLogger.dispatchStateFailedEvent(\n',
        replace: `    } catch (thrown) {
      const error = asStatesError(thrown); /* stepsaga-patch:javascript-errors-are-runtime */
      options.eventLogger.dispatchStateFailedEvent(
`,
      },
    ],
  },
  {
    id: 'jsonpath-missing-texts',
    aws:
      'A JSONPath that selects nothing fails with States.Runtime worded by the field it is in: for a payload ' +
      "template key (Parameters, ItemSelector, ResultSelector) and a Fail state's ErrorPath/CausePath, " +
      "The JSONPath '<path>' specified for the field '<key.$|ErrorPath|CausePath>' could not be found in the input " +
      "'<input>'; for InputPath, OutputPath and TimeoutSecondsPath/HeartbeatSecondsPath, Invalid path '<path>' : " +
      "No results for path: $['a']['b'] (the missing leaf) or Missing property in path $['a'] (a missing step " +
      'on the way), as Jayway JsonPath words it. A template object may name the keys that stand for such a path ' +
      "field under Symbol.for('stepsaga.pathFields') (engine.ts evaluates TimeoutSecondsPath inside Parameters).",
    why: "The library reported Path expression '<path>' does not point to a value everywhere.",
    edits: [
      {
        find: '  for (const Constraint of constraints) {\n',
        replace: `  /* stepsaga-patch:jsonpath-missing-texts */
  if (evaluation === void 0 && !options?.ignoreDefinedValueConstraint && !variable) {
    const error = new StatesRuntimeError("Path expression '" + pathExpression + "' does not point to a value");
    error.missingPath = { path: pathExpression, root: pathExpression.startsWith("$$") ? context ?? null : json };
    throw error;
  }
  for (const Constraint of constraints) {
`,
      },
      {
        find: 'var DefinedValueConstraint = class',
        replace: `/* stepsaga-patch:jsonpath-missing-texts */
var STEPSAGA_PATH_FIELDS = Symbol.for("stepsaga.pathFields");
function jaywaySegments(path) {
  const segments = [];
  const step = /\\.([^.[\\]]+)|\\[\\s*(-?\\d+)\\s*\\]|\\[\\s*'((?:[^'\\\\]|\\\\.)*)'\\s*\\]|\\[\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*\\]/y;
  step.lastIndex = path.startsWith("$$") ? 2 : 1;
  while (step.lastIndex < path.length) {
    const match = step.exec(path);
    if (!match) return void 0;
    segments.push(match[2] !== void 0 ? Number(match[2]) : match[1] ?? match[3] ?? match[4]);
  }
  return segments;
}
function jaywayPath(segments) {
  return "$" + segments.map((s) => typeof s === "number" ? "[" + s + "]" : "['" + s + "']").join("");
}
function jaywayNotFound(path, root) {
  const segments = jaywaySegments(path);
  if (!segments) return "No results for path: " + path;
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const holds = typeof segment === "number" ? Array.isArray(node) && segment >= 0 && segment < node.length : node !== null && typeof node === "object" && !Array.isArray(node) && Object.hasOwn(node, segment);
    if (!holds) {
      return i === segments.length - 1 ? "No results for path: " + jaywayPath(segments) : "Missing property in path " + jaywayPath(segments.slice(0, i + 1));
    }
    node = node[segment];
  }
  return "No results for path: " + jaywayPath(segments);
}
function invalidPathError(error) {
  if (!error?.missingPath) return error;
  const { path, root } = error.missingPath;
  return new StatesRuntimeError("Invalid path '" + path + "' : " + jaywayNotFound(path, root));
}
function fieldPathError(error, field, input) {
  if (!error?.missingPath) return error;
  return new StatesRuntimeError("The JSONPath '" + error.missingPath.path + "' specified for the field '" + field + "' could not be found in the input '" + JSON.stringify(input ?? null) + "'");
}
function queryPathField(path, json, context) {
  try {
    return jsonPathQuery(path, json, context);
  } catch (error) {
    throw invalidPathError(error);
  }
}
function queryTemplateField(template, key, path, json, context) {
  try {
    return jsonPathQuery(path, json, context);
  } catch (error) {
    throw template[STEPSAGA_PATH_FIELDS]?.includes(key) ? invalidPathError(error) : fieldPathError(error, key, json);
  }
}
var DefinedValueConstraint = class`,
      },
      {
        find: '  return jsonPathQuery(path, input, context);\n',
        replace:
          '  return queryPathField(path, input, context); /* stepsaga-patch:jsonpath-missing-texts */\n',
      },
      {
        find: '  return jsonPathQuery(path, result, context);\n',
        replace:
          '  return queryPathField(path, result, context); /* stepsaga-patch:jsonpath-missing-texts */\n',
      },
      {
        find: '        resolvedValue = jsonPathQuery(value, json, context);\n',
        replace:
          '        resolvedValue = queryTemplateField(payloadTemplate, key, value, json, context); /* stepsaga-patch:jsonpath-missing-texts */\n',
      },
      {
        find: `    const resolveString = (path) => {
      const value = path.startsWith("States.") ? evaluateIntrinsicFunction(path, input, context) : jsonPathQuery(path, input, context);
`,
        replace: `    const resolveString = (path, field) => {
      let value;
      try {
        value = path.startsWith("States.") ? evaluateIntrinsicFunction(path, input, context) : jsonPathQuery(path, input, context);
      } catch (error) {
        throw fieldPathError(error, field, input); /* stepsaga-patch:jsonpath-missing-texts */
      }
`,
      },
      {
        find: '      error = resolveString(state.ErrorPath);\n',
        replace: '      error = resolveString(state.ErrorPath, "ErrorPath");\n',
      },
      {
        find: '      cause = resolveString(state.CausePath);\n',
        replace: '      cause = resolveString(state.CausePath, "CausePath");\n',
      },
    ],
  },
  {
    id: 'map-distributed',
    aws:
      'A Map whose ItemProcessor (or Iterator) has ProcessorConfig.Mode DISTRIBUTED runs its items as a Map Run of ' +
      'child executions: the parent history records MapStateStarted, MapRunStarted, then MapRunSucceeded or ' +
      'MapRunFailed, and nothing of the items. ToleratedFailureCount(Path) and ToleratedFailurePercentage(Path) ' +
      'are read when the Map starts (States.Runtime: The ToleratedFailureCountPath field refers to value "<v>" ' +
      'which is not a valid integer: <path>; ... ToleratedFailurePercentagePath ... not a valid float; ' +
      'ToleratedFailureCount cannot be negative.; ToleratedFailurePercentage must be between 0 and 100.); item ' +
      'failures up to them do not fail the Map, more fail it with States.ExceedToleratedFailureThreshold and ' +
      'abort the running items. (A failed item tolerated leaves its {Error, Cause} in the output array.) ' +
      'ItemReader, ItemBatcher and ResultWriter (S3) are not supported: States.Runtime naming the field.',
    why: 'The library ran every Map inline and ignored the tolerated failure fields.',
    edits: [
      {
        find: '    const processedItemsPromise = items.map(\n',
        replace: `    if (iteratorDefinition.ProcessorConfig?.Mode === "DISTRIBUTED") /* stepsaga-patch:map-distributed */
      return this.executeMapRun(items, iteratorStateMachine, input, context, options, limit);
    const processedItemsPromise = items.map(
`,
      },
      {
        find: '    this.eventForwarding.push(this.forwardEventsToRootEventLogger(options.eventLogger, execution.eventLogs, index, options.rawInput)); /* stepsaga-patch:nested-events-before-exit */\n',
        replace:
          '    if (!this.mapRun) this.eventForwarding.push(this.forwardEventsToRootEventLogger(options.eventLogger, execution.eventLogs, index, options.rawInput)); /* stepsaga-patch:nested-events-before-exit, map-distributed */\n',
      },
      {
        find: '  processItem(stateMachine, item, input, context, index, options) {\n',
        replace: `  /* stepsaga-patch:map-distributed */
  async executeMapRun(items, iteratorStateMachine, input, context, options, limit) {
    const logger = options.eventLogger;
    const state = { name: this.stateName, type: "Map" };
    const dispatch = (type, details) => logger?.dispatch({ type, timestamp: Date.now(), state, ...details });
    for (const field of ["ItemReader", "ItemBatcher", "ResultWriter"]) {
      if (this.stateDefinition[field] !== void 0) {
        throw mapRunError("The local cloud does not support " + field + " in a distributed Map (it reads and writes no S3 objects): give the items in the state input (ItemsPath)");
      }
    }
    this.mapRun = true;
    dispatch("MapStateStarted");
    const tolerance = mapRunTolerance(this.stateDefinition, input, context);
    dispatch("MapRunStarted", { label: this.stateDefinition.Label });
    let failures = 0;
    let runFailure;
    const exceeded = () => {
      if (tolerance.count === void 0 && tolerance.percentage === void 0) return failures > 0;
      return tolerance.count !== void 0 && failures > tolerance.count || tolerance.percentage !== void 0 && failures * 100 / items.length > tolerance.percentage;
    };
    const results = items.map((item, i) => limit(async () => {
      if (runFailure) return null;
      try {
        return await this.processItem(iteratorStateMachine, item, input, context, i, options);
      } catch (error) {
        if (runFailure) return null;
        if (!(error instanceof ExecutionError)) {
          runFailure = error;
          throw error;
        }
        failures++;
        if (exceeded()) {
          runFailure = new ExceedToleratedFailureThresholdError();
          throw runFailure;
        }
        return { Error: error.cause?.name ?? "States.TaskFailed", Cause: error.cause?.message ?? "" };
      }
    }));
    try {
      const output = await Promise.all(results);
      dispatch("MapRunSucceeded");
      return this.buildExecutionResult(output);
    } catch (error) {
      this.executionAbortFuncs.forEach((abort) => abort());
      await Promise.allSettled(results);
      if (error instanceof ExceedToleratedFailureThresholdError) dispatch("MapRunFailed", { Error: error.name, Cause: error.message });
      throw error;
    } finally {
      delete context["Map"];
    }
  }
  processItem(stateMachine, item, input, context, index, options) {
`,
      },
      {
        find: 'var ExecutionError = class',
        replace: `/* stepsaga-patch:map-distributed */
function mapRunError(message) {
  const error = new StatesRuntimeError(message);
  error.stateExecutionFailure = true;
  return error;
}
function mapRunToleranceValue(state, field, pattern, kind, input, context) {
  const path = state[field + "Path"];
  if (path === void 0) return state[field];
  let value = jsonPathQuery(path, input, context, { ignoreDefinedValueConstraint: true });
  if (typeof value === "string" && pattern.test(value)) value = Number(value);
  if (typeof value !== "number" || !Number.isFinite(value) || kind === "integer" && !Number.isInteger(value)) {
    const shown = typeof value === "string" ? value : JSON.stringify(value ?? null);
    throw mapRunError("The " + field + 'Path field refers to value "' + shown + '" which is not a valid ' + kind + ": " + path);
  }
  return value;
}
function mapRunTolerance(state, input, context) {
  const count = mapRunToleranceValue(state, "ToleratedFailureCount", /^\\s*[+-]?\\d{1,18}\\s*$/, "integer", input, context);
  if (count !== void 0 && count < 0) throw mapRunError("ToleratedFailureCount cannot be negative.");
  const percentage = mapRunToleranceValue(state, "ToleratedFailurePercentage", /^\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?[fFdD]?\\s*$/, "float", input, context);
  if (percentage !== void 0 && !(percentage >= 0 && percentage <= 100)) throw mapRunError("ToleratedFailurePercentage must be between 0 and 100.");
  return { count, percentage };
}
var ExceedToleratedFailureThresholdError = class extends Error {
  constructor() {
    super("The specified tolerated failure threshold was exceeded");
    this.name = "States.ExceedToleratedFailureThreshold";
    this.retryable = true;
    this.catchable = true;
  }
  get isRetryable() {
    return this.retryable;
  }
  get isCatchable() {
    return this.catchable;
  }
};
var ExecutionError = class`,
      },
    ],
  },
];

/** Identifies the exact patch list (ids and code): a bundle patched by another version does not match. */
export const PATCH_FINGERPRINT = createHash('sha256')
  .update(JSON.stringify(PATCHES.map(({ id, edits }) => ({ id, edits }))))
  .digest('hex')
  .slice(0, 12);

/** The marker that starts every patched bundle. */
export const PATCH_MARKER = `${HEADER_PREFIX}${PATCHES.length}:${PATCH_FINGERPRINT}`;

const defaultPackageDir = () =>
  resolve(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', ENGINE_PACKAGE);

function countOccurrences(text, needle) {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** Applies every patch to a pristine bundle's text; throws naming the patch whose anchor does not match. */
export function patchBundleText(pristine, bundleName) {
  let text = pristine;
  for (const patch of PATCHES) {
    for (const [index, edit] of patch.edits.entries()) {
      const expected = edit.count ?? 1;
      const found = countOccurrences(text, edit.find);
      if (found !== expected) {
        throw new Error(
          `patch-engine: patch "${patch.id}" (edit ${index + 1} of ${patch.edits.length}) expects its upstream code ` +
            `${expected} time(s) in ${bundleName}, found ${found}. ${ENGINE_PACKAGE} changed (patches target ` +
            `${ENGINE_VERSION}): review the patch in scripts/patch-engine.mjs. Upstream code:\n${edit.find}`,
        );
      }
      text = text.split(edit.find).join(edit.replace);
    }
  }
  const ids = PATCHES.map((patch) => patch.id);
  const summary = JSON.stringify({ count: PATCHES.length, fingerprint: PATCH_FINGERPRINT, ids });
  const header = `${PATCH_MARKER} (scripts/patch-engine.mjs): ${ids.join(', ')}\n`;
  const trailer = bundleName.endsWith('.cjs')
    ? `\nmodule.exports.stepsagaPatches = Object.freeze(${summary});\n`
    : `\nexport const stepsagaPatches = Object.freeze(${summary});\n`;
  return header + text + trailer;
}

function readVersion(packageDir) {
  const manifest = join(packageDir, 'package.json');
  if (!existsSync(manifest)) {
    throw new Error(`patch-engine: ${ENGINE_PACKAGE} is not installed (${manifest} missing): run npm ci`);
  }
  return JSON.parse(readFileSync(manifest, 'utf8')).version;
}

/**
 * Patches both Node bundles (idempotent). Returns what it did.
 * @returns {{ version: string, changed: string[], unchanged: string[] }}
 */
export function applyEnginePatches(packageDir = defaultPackageDir()) {
  const version = readVersion(packageDir);
  if (version !== ENGINE_VERSION) {
    throw new Error(
      `patch-engine: ${ENGINE_PACKAGE} is ${version}, the patches were written for ${ENGINE_VERSION}. Pin ` +
        `${ENGINE_VERSION} again, or review every patch in scripts/patch-engine.mjs against the new bundle and bump ENGINE_VERSION.`,
    );
  }
  const planned = ENGINE_BUNDLES.map((bundle) => {
    const file = join(packageDir, bundle);
    const original = file + ORIGINAL_SUFFIX;
    const current = readFileSync(file, 'utf8');
    let pristine = current;
    if (current.startsWith(HEADER_PREFIX)) {
      if (!existsSync(original)) {
        throw new Error(
          `patch-engine: ${file} is patched but its pristine copy ${original} is missing; reinstall the package ` +
            `(rm -rf node_modules/${ENGINE_PACKAGE} && npm install) and run this again.`,
        );
      }
      pristine = readFileSync(original, 'utf8');
    }
    return { bundle, file, original, current, pristine, patched: patchBundleText(pristine, bundle) };
  });
  // Every anchor matched in every bundle: only now write anything.
  const changed = [];
  const unchanged = [];
  for (const { bundle, file, original, current, pristine, patched } of planned) {
    if (patched === current) {
      unchanged.push(bundle);
      continue;
    }
    if (current === pristine) writeFileSync(original, pristine);
    writeFileSync(file, patched);
    changed.push(bundle);
  }
  return { version, changed, unchanged };
}

/**
 * Checks that both bundles carry this file's current patch list.
 * @returns {{ ok: boolean, problems: string[] }}
 */
export function verifyEnginePatches(packageDir = defaultPackageDir()) {
  const problems = [];
  for (const bundle of ENGINE_BUNDLES) {
    const file = join(packageDir, bundle);
    if (!existsSync(file)) {
      problems.push(`${file} is missing`);
      continue;
    }
    const firstLine = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
    if (!firstLine.startsWith(HEADER_PREFIX)) problems.push(`${bundle} is not patched`);
    else if (!firstLine.startsWith(`${PATCH_MARKER} `)) {
      problems.push(
        `${bundle} carries "${firstLine.split(' ')[1]}", expected "${PATCH_MARKER}" (patches changed since)`,
      );
    }
  }
  return { ok: problems.length === 0, problems };
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  try {
    if (process.argv.includes('--check')) {
      const { ok, problems } = verifyEnginePatches();
      if (!ok) {
        console.error(`patch-engine: ${problems.join('; ')}. Run: node scripts/patch-engine.mjs`);
        process.exit(1);
      }
      console.log(`patch-engine: ${ENGINE_PACKAGE} ${ENGINE_VERSION} carries ${PATCH_MARKER}`);
    } else {
      const { version, changed } = applyEnginePatches();
      console.log(
        changed.length > 0
          ? `patch-engine: ${ENGINE_PACKAGE} ${version}: applied ${PATCHES.length} patches (${PATCH_FINGERPRINT}) to ${changed.join(', ')}`
          : `patch-engine: ${ENGINE_PACKAGE} ${version}: ${PATCHES.length} patches (${PATCH_FINGERPRINT}) already applied`,
      );
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
