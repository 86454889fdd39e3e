/**
 * What an app's browser module brings to the console page (the app config's `console.web` names the
 * file; its default export is a {@link WebExtension}). The console draws the saga's executions, graph,
 * history and DLQ; the module draws what only the app knows: its start form, its data panels and the
 * bar of the item behind the shown execution. Its types are the app's: `Choices` is what its `choices`
 * hook answers, `Item` the body of its `item` hook.
 */
import type { ChoicesResponse } from '../api';
import type { ConsoleApi } from './api';

/** What the console gives the module. */
export interface ConsolePage {
  api: ConsoleApi;
  choices: ChoicesResponse;
  /** Shows an execution (e.g. the one the start form just began). */
  select(executionArn: string): void;
  /** Refreshes the DLQ and the data panels soon (after a change). */
  refreshSoon(): void;
  /** Reads the item behind the shown execution again and redraws its bar. */
  refreshItem(): Promise<void>;
}

export interface WebExtension<Choices = unknown, Item = unknown> {
  /** The word for the item behind an execution ("order"): the list's name column, the DLQ's id column. */
  noun: string;
  start?: {
    /** The panel's title ("Start an order"). */
    title: string;
    /** False while the choices offer nothing yet (right after start-up the tables may still be loading). */
    ready(choices: Choices): boolean;
    /** Draws the form once; its submit starts an execution (`page.api.start`) and reports in `result`. */
    draw(form: HTMLFormElement, result: HTMLElement, choices: Choices, page: ConsolePage): void;
  };
  data?: {
    /** Draws the panel's controls into `head` once; returns the refresh that fills `body`. */
    draw(head: HTMLElement, body: HTMLElement, page: ConsolePage): () => Promise<void>;
  };
  item?: {
    /** The item's id: the bar is shown while it names the shown execution. */
    id(item: Item): string;
    /** Draws the bar into `el`; `undefined` when another execution is shown (clears it). */
    draw(el: HTMLElement, item: Item | undefined, page: ConsolePage): void;
  };
}
