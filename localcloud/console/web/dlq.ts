/** The dead-letter queue: the parked compensations, and the Redrive button with its report. */

import type { ConsoleApi } from './api';
import { $, emptyRow, errorText, table, time } from './dom';

/** Reads the DLQ (a peek) and fills its table; `noun` names the id column ("order"). */
export async function refreshDlq(api: ConsoleApi, noun: string | undefined): Promise<void> {
  const el = $('dlq');
  const button = $('redrive') as HTMLButtonElement;
  try {
    const { messages } = await api.dlq();
    table(
      el,
      [noun ? noun[0]?.toUpperCase() + noun.slice(1) : 'Id', 'Step', 'Error', 'Cause', 'Sent'],
      messages.map((m) => [
        m.id ?? '',
        m.step ?? '',
        m.error ?? '',
        (m.cause ?? '').slice(0, 160),
        time(m.sentAt),
      ]),
    );
    if (messages.length === 0) emptyRow(el, 5, 'Empty: every compensation succeeded.');
    button.disabled = messages.length === 0;
  } catch (error) {
    el.replaceChildren();
    emptyRow(el, 5, `Cannot read the DLQ: ${errorText(error)}`);
  }
}

/** Runs the saga's Redrive function and shows its report; `after` refreshes what it changed. */
export async function redrive(api: ConsoleApi, after: () => Promise<void>): Promise<void> {
  const report = $('redrive-report');
  const button = $('redrive') as HTMLButtonElement;
  button.disabled = true;
  report.hidden = false;
  report.textContent = 'Redriving…';
  try {
    const result = await api.redrive();
    report.textContent = result.ok
      ? `Redrive report:\n${JSON.stringify(result.report, null, 2)}`
      : `Redrive failed:\n${JSON.stringify(result.payload, null, 2)}`;
  } catch (error) {
    report.textContent = `Redrive failed: ${errorText(error)}`;
  }
  await after();
}
