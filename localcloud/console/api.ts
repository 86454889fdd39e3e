/**
 * The console's HTTP API (`/_console/api/*`): the request and response shapes of every route, in one
 * module that the server (`service.ts`) and the page (`web/api.ts`, the views) both import, so a field
 * renamed on one side fails the type check on the other.
 *
 * The console serves any app: it speaks of sagas, executions and "the item behind an execution" (the
 * business object named like the execution, e.g. an order). What the app adds (its start form's choices,
 * its data panels, its item and the item's actions) passes through these routes as the app's own JSON
 * (`unknown` here); the app's hooks (`localcloud/plugin.ts`) and its browser module type it on both ends.
 *
 * Every route takes `?saga=<name>` (the app config's saga; default its first).
 */
import type { ExecutionStatus as SfnExecutionStatus } from '@aws-sdk/client-sfn';
import type { GraphLayout } from './layout';
import type { ConsoleEvent, SagaGraph, StateRun } from './model';

/** Where the API lives on the edge. */
export const CONSOLE_API_PATH = '/_console/api';

/** Step Functions' execution statuses: the list's filter (`GET executions?status=`) and its badges. */
export const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const satisfies readonly SfnExecutionStatus[];
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** The body of every error answer (4xx/5xx): a sentence naming what is wrong. */
export interface ApiErrorBody {
  error: string;
}

/** `GET choices`: what the page needs first. */
export interface ChoicesResponse {
  /** The shown saga's state machine (absent before the assembly is deployed). */
  stateMachineArn?: string;
  endpoint: string;
  apiUrl?: string;
  statuses: readonly ExecutionStatus[];
  /** The app config's sagas (the selector), and the one shown. */
  sagas: string[];
  saga?: string;
  /** The item actions the app offers (`POST items/{id}/{action}`). */
  actions: readonly string[];
  /** The app's `choices` hook's answer (its start form's choices), when it has one. */
  app?: unknown;
}

/** `GET graph`: the state machine's graph and its layout. */
export interface GraphResponse {
  stateMachineArn: string;
  name: string;
  graph: SagaGraph;
  layout: GraphLayout;
}

/** An execution as the list shows it (and as the live stream's `executions` event sends it). */
export interface ExecutionSummary {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  startDate?: string;
  stopDate?: string;
}

/** `GET executions?status=`: the newest 100, newest first. */
export interface ExecutionsResponse {
  executions: ExecutionSummary[];
}

/** `GET execution?arn=` (and the stream's `execution` event): the execution, its history, its states. */
export interface ExecutionDetail {
  execution: ExecutionSummary & { input?: string; output?: string; error?: string; cause?: string };
  events: ConsoleEvent[];
  states: Record<string, StateRun>;
  takenEdges: string[];
}

/** A message parked in the saga's DLQ (peeked, not received). */
export interface DeadLetter {
  messageId: string;
  /** The saga's business id (the execution's name): the message's field the saga plugin's `idField` names. */
  id?: string;
  step?: string;
  error?: string;
  cause?: string;
  executionArn?: string;
  sentAt?: string;
}

/** `GET dlq`. */
export interface DlqResponse {
  messages: DeadLetter[];
}

/** `POST redrive` (body `{}`): the Redrive function's report, or its error payload. */
export type RedriveResponse =
  | { ok: true; report: unknown }
  | { ok: false; functionError: string; payload: unknown };

/** `POST start` (body: the app's start request): the app's answer, passed through with its status. */
export interface StartResponse {
  /** The execution started, when the app's answer names it. */
  executionArn?: string;
  [field: string]: unknown;
}

/** `POST items/{id}/{action}`: the app's answer, passed through with its status. */
export interface ItemActionResponse {
  status?: string;
  action?: string;
  [field: string]: unknown;
}

/**
 * `GET stream?arn=`: server-sent events. `executions` when the list changes, `execution` when the
 * watched execution records events, `item` (the app's `item` hook's answer) when the item behind it
 * changes, `problem` when a poll failed.
 */
export interface StreamEvents {
  executions: ExecutionSummary[];
  execution: ExecutionDetail;
  item: unknown;
  problem: ApiErrorBody;
}
