/**
 * The console page's entry: the state the views draw from, the live stream, the selection, and the
 * boot. Everything it shows comes from the console API (`web/api.ts`, typed by `../api.ts`); the
 * stream (server-sent events) pushes new executions, history and the item behind the shown execution.
 * The app's own panels (start form, data, item bar) come from the saga's browser module
 * (`extension.ts`), which the bundle's entry passes to {@link boot}.
 */
import type { ChoicesResponse, ExecutionDetail, ExecutionSummary, GraphResponse } from '../api';
import { type ConsoleApi, createConsoleApi } from './api';
import { redrive, refreshDlq } from './dlq';
import { $, errorText, options } from './dom';
import { renderExecutions } from './executions';
import type { ConsolePage, WebExtension } from './extension';
import { renderGraph, setupZoom } from './graph';
import { renderExecution, renderStateDetail } from './history';
import { renderSagaSelector } from './saga-select';

const view = {
  graph: undefined as GraphResponse | undefined,
  executions: [] as ExecutionSummary[],
  filter: '',
  selectedArn: undefined as string | undefined,
  detail: undefined as ExecutionDetail | undefined,
  selectedState: undefined as string | undefined,
  /** The item behind the shown execution (the app's JSON), when the app has one. */
  item: undefined as unknown,
  zoom: 'fit' as 'fit' | number,
  noun: undefined as string | undefined,
  hint: 'Pick an execution to see its graph.',
  selectState,
  select: selectExecution,
};

let api: ConsoleApi;
let extension: WebExtension | undefined;
let page: ConsolePage;
let refreshData: (() => Promise<void>) | undefined;

function selectState(name: string): void {
  view.selectedState = name;
  renderGraph(view);
  renderStateDetail(view);
  (document.querySelector(`#graph [data-state="${CSS.escape(name)}"]`) as SVGGElement | null)?.focus();
}

function showExecution(): void {
  renderExecution(view);
  renderGraph(view);
  renderStateDetail(view);
  showItem();
}

/** The app's bar for the item behind the shown execution (cleared while it names another). */
function showItem(): void {
  const item = extension?.item;
  if (!item) return;
  const current =
    view.item !== undefined && view.detail && item.id(view.item) === view.detail.execution.name
      ? view.item
      : undefined;
  item.draw($('item-bar'), current, page);
}

async function refreshItem(): Promise<void> {
  const name = view.detail?.execution.name;
  if (!extension?.item || !name) return;
  const answer = await api.item(name).catch(() => undefined);
  if (answer !== undefined && extension.item.id(answer) === view.detail?.execution.name) {
    view.item = answer;
    showItem();
  }
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
function refreshSoon(): void {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refreshSide(), 250);
}

function refreshSide(): Promise<void> {
  return Promise.all([refreshDlq(api, view.noun), refreshData?.()]).then(() => undefined);
}

let source: EventSource | undefined;

/** The top bar's stream indicator: `live`, or what is wrong. */
function showLive(on: boolean, text: string): void {
  const live = $('live');
  live.className = on ? 'live on' : 'live off';
  live.textContent = text;
}

function connect(): void {
  source?.close();
  source = api.stream(view.selectedArn, {
    open: () => showLive(true, 'live'),
    error: () => showLive(false, 'reconnecting…'),
    executions(executions) {
      showLive(true, 'live');
      view.executions = executions;
      renderExecutions(view);
      refreshSoon();
    },
    item(item) {
      if (!extension?.item || extension.item.id(item) !== view.detail?.execution.name) return;
      view.item = item;
      showItem();
      refreshSoon();
    },
    execution(detail) {
      if (detail.execution.executionArn !== view.selectedArn) return;
      view.detail = detail;
      showExecution();
      refreshSoon();
    },
    problem: ({ error }) => showLive(false, `problem: ${error}`),
  });
}

function selectExecution(arn: string): void {
  if (view.selectedArn !== arn) {
    view.selectedArn = arn;
    view.detail = undefined;
    view.selectedState = undefined;
    view.item = undefined;
    if (extension?.item) extension.item.draw($('item-bar'), undefined, page);
    history.replaceState(null, '', `#${encodeURIComponent(arn)}`);
  }
  renderExecutions(view);
  void api
    .execution(arn)
    .then((detail) => {
      if (detail.execution.executionArn !== view.selectedArn) return;
      view.detail = detail;
      showExecution();
      return refreshItem();
    })
    .catch((error: unknown) => {
      $('execution-summary').textContent = `Cannot load ${arn}: ${errorText(error)}`;
    });
  connect();
}

/** The choices; while the app's start form has nothing to offer yet (tables loading), asks again briefly. */
async function loadChoices(): Promise<ChoicesResponse> {
  let choices = await api.choices();
  const start = extension?.start;
  for (let i = 0; start && choices.app !== undefined && i < 10 && !start.ready(choices.app); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    choices = await api.choices();
  }
  return choices;
}

/** Boots the page with the app's browser modules, by saga name (the bundle's entry passes them). */
export function boot(extensions: Record<string, WebExtension>): void {
  void run(extensions).catch((error: unknown) => {
    $('live').textContent = `console error: ${errorText(error)}`;
  });
}

async function run(extensions: Record<string, WebExtension>): Promise<void> {
  const saga = new URLSearchParams(location.search).get('saga');
  api = createConsoleApi({ saga });
  const first = await api.choices();
  extension = first.saga ? extensions[first.saga] : undefined;
  const choices = extension ? await loadChoices() : first;
  page = { api, choices, select: selectExecution, refreshSoon, refreshItem };
  view.noun = extension?.noun;
  $('machine').textContent =
    `${choices.stateMachineArn ?? 'no state machine'} · endpoint ${choices.endpoint}`;
  renderSagaSelector(choices);
  const form = choices.app !== undefined ? extension?.start : undefined;
  $('start-panel').hidden = !form;
  if (form) {
    $('start-title').textContent = form.title;
    view.hint = `${form.title} or pick an execution to see its graph.`;
    form.draw($('start-form') as HTMLFormElement, $('start-result'), choices.app, page);
  }
  const data = choices.app !== undefined ? extension?.data : undefined;
  $('data-panel').hidden = !data;
  refreshData = data?.draw($('data-tools'), $('data'), page);
  const filter = $('status-filter') as HTMLSelectElement;
  filter.replaceChildren(...options(choices.statuses, undefined, 'All'));
  filter.addEventListener('change', () => {
    view.filter = filter.value;
    renderExecutions(view);
  });
  $('redrive').addEventListener('click', () => void redrive(api, refreshSide));
  setupZoom(view);
  view.graph = await api.graph().catch(() => undefined);
  showExecution();
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (fromHash) selectExecution(fromHash);
  else connect();
  refreshSoon();
}
