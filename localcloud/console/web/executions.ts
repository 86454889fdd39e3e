/** The executions list: state machine, name, status, start, duration; filtered by status. */
import type { ExecutionSummary } from '../api';
import { $, badge, duration, emptyRow, h, table, time } from './dom';

export interface ExecutionsView {
  executions: ExecutionSummary[];
  /** The status shown ('' for all). */
  filter: string;
  selectedArn: string | undefined;
  /** The app's word for the item an execution is named after ("order"), if any. */
  noun: string | undefined;
  select(executionArn: string): void;
}

export function renderExecutions(view: ExecutionsView): void {
  const machine = (arn: string) => arn.split(':').pop() ?? arn;
  const shown = view.executions.filter((e) => !view.filter || e.status === view.filter);
  const el = $('executions');
  table(
    el,
    ['State machine', view.noun ? `Name (${view.noun} id)` : 'Name', 'Status', 'Started', 'Duration'],
    shown.map((e) => {
      const open = h('button', { type: 'button', class: 'link', 'data-execution': e.name }, e.name);
      open.addEventListener('click', () => view.select(e.executionArn));
      return [
        machine(e.stateMachineArn),
        open,
        badge(e.status),
        time(e.startDate),
        duration(e.startDate, e.stopDate),
      ];
    }),
  );
  const rows = el.querySelector('tbody')?.children;
  shown.forEach((e, i) => {
    if (e.executionArn === view.selectedArn) rows?.[i]?.classList.add('selected');
  });
  if (shown.length === 0) emptyRow(el, 5, 'No executions yet.');
}
