/** The shown execution: its summary, its event history, and the detail of the state picked in the graph. */
import type { ExecutionDetail, GraphResponse } from '../api';
import { statusLabel } from '../model';
import { $, badge, duration, h, pretty, table, time } from './dom';

export interface HistoryView {
  graph: GraphResponse | undefined;
  detail: ExecutionDetail | undefined;
  selectedState: string | undefined;
  /** What the summary says while no execution is shown. */
  hint: string;
}

export function renderExecution(view: HistoryView): void {
  const detail = view.detail;
  const summary = $('execution-summary');
  if (!detail) {
    $('execution-title').textContent = 'Execution';
    summary.replaceChildren(h('span', { class: 'muted' }, view.hint));
    $('history').replaceChildren();
    return;
  }
  const e = detail.execution;
  $('execution-title').textContent = `Execution ${e.name}`;
  summary.replaceChildren(
    h('span', {}, 'Status ', badge(e.status)),
    h('span', {}, `Started ${time(e.startDate)}`),
    h('span', {}, `Duration ${duration(e.startDate, e.stopDate)}`),
    ...(e.error ? [h('span', {}, `Error `, h('strong', {}, e.error))] : []),
    h('span', { class: 'muted' }, e.executionArn),
  );
  table(
    $('history'),
    ['ID', 'Type', 'Step', 'Timestamp', 'Elapsed'],
    detail.events.map((ev) => [
      h('td', { class: 'num' }, ev.id),
      ev.type,
      ev.step ?? '',
      time(ev.timestamp),
      h('td', { class: 'num' }, `${ev.elapsedMs} ms`),
    ]),
  );
}

export function renderStateDetail(view: HistoryView): void {
  const name = view.selectedState;
  if (!name) return;
  const run = view.detail?.states[name];
  const node = view.graph?.graph.nodes.find((n) => n.id === name);
  const events = (view.detail?.events ?? []).filter((e) => run?.eventIds.includes(e.id));
  const field = (label: string, value?: string) =>
    value === undefined || value === '' ? [] : [h('dt', {}, label), h('dd', {}, h('pre', {}, pretty(value)))];
  $('state-detail').replaceChildren(
    h('h3', { id: 'state-title' }, name),
    h(
      'p',
      {},
      `${node?.type ?? ''} · ${node?.path === 'compensation' ? 'compensation path' : 'forward path'} · `,
      h('strong', { 'data-testid': 'state-status' }, run ? statusLabel(run) : 'not reached'),
    ),
    h(
      'dl',
      {},
      ...field('Input', run?.input),
      ...field('Output', run?.output),
      ...field('Error', run?.error),
      ...field('Cause', run?.cause),
      ...(node?.resource ? [h('dt', {}, 'Resource'), h('dd', {}, node.resource)] : []),
    ),
    h('h4', {}, `Events (${events.length})`),
    h('ul', {}, ...events.map((e) => h('li', {}, `#${e.id} ${e.type} · +${e.elapsedMs} ms`))),
  );
}
