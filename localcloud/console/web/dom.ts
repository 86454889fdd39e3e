/// <reference lib="dom" />
/**
 * The console page's DOM helpers: `h()` builds an element with attributes and children, `svg()` an SVG
 * element; the views rebuild their part of the page with `replaceChildren` from the state they are given.
 * The app's browser modules (`WebExtension`) draw with the same helpers.
 */
import type { ExecutionStatus } from '../api';

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

export type Child = Node | string | number | undefined | null | false;
export type Attributes = Record<string, string | number | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children)
    if (child !== undefined && child !== null && child !== false)
      el.append(typeof child === 'object' ? child : String(child));
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element; `text` becomes its text content. */
export function svg(
  tag: string,
  attrs: Record<string, string | number | undefined> = {},
  text?: string,
): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs))
    if (value !== undefined) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The message of something thrown (the console API's errors carry the server's sentence). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function time(iso?: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function duration(start?: string, stop?: string): string {
  if (!start) return '';
  const ms = (stop ? Date.parse(stop) : Date.now()) - Date.parse(start);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** JSON text indented, or the text as it is. */
export function pretty(text?: string): string {
  if (text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A badge's colour (with its text, never colour alone): done well, done badly, under way, undone. */
export type Tone = 'ok' | 'bad' | 'run' | 'caught';

/** The tone of each execution status. */
export const EXECUTION_TONES: Record<ExecutionStatus, Tone> = {
  RUNNING: 'run',
  SUCCEEDED: 'ok',
  FAILED: 'bad',
  TIMED_OUT: 'bad',
  ABORTED: 'bad',
  PENDING_REDRIVE: 'run',
};

/** A status in words, coloured by its tone (an execution's by default). */
export function badge(
  status: string,
  tone: Tone | undefined = EXECUTION_TONES[status as ExecutionStatus],
): HTMLElement {
  return h('span', { class: `badge ${status}${tone ? ` ${tone}` : ''}` }, status);
}

/** Fills a table: a header row, one row per `rows` item (a cell given as a `<td>` is kept as it is). */
export function table(el: HTMLElement, headers: string[], rows: Child[][], caption?: string): void {
  el.replaceChildren(
    ...(caption ? [h('caption', {}, caption)] : []),
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...rows.map((cells) =>
        h('tr', {}, ...cells.map((c) => (c instanceof HTMLTableCellElement ? c : h('td', {}, c)))),
      ),
    ),
  );
}

/** The row a table shows when it has none. */
export function emptyRow(el: HTMLElement, columns: number, text: string): void {
  el.append(h('tbody', {}, h('tr', {}, h('td', { colspan: columns, class: 'muted' }, text))));
}

export function options(values: readonly string[], selected?: string, empty?: string): HTMLOptionElement[] {
  return [
    ...(empty !== undefined ? [h('option', { value: '' }, empty)] : []),
    ...values.map((v) => h('option', { value: v, selected: v === selected }, v)),
  ];
}

export function select(
  name: string,
  label: string,
  values: readonly string[],
  selected?: string,
  empty?: string,
): HTMLLabelElement {
  return h(
    'label',
    {},
    label,
    h('select', { name, 'aria-label': label }, ...options(values, selected, empty)),
  );
}

/** Shows the outcome of a request in a status line (`.result`, red when it failed). */
export function report(el: HTMLElement, text: string, failed = false): void {
  el.className = failed ? 'result error' : 'result';
  el.textContent = text;
}
