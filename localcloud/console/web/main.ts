/// <reference lib="dom" />
/**
 * The console's front end: vanilla DOM + SVG, bundled by esbuild at service start. Everything it shows
 * comes from the console API (`/_console/api/*`), which is itself an AWS SDK client of the local cloud;
 * the live stream (`/_console/api/stream`, server-sent events) pushes new executions and history.
 */
import type { EdgeRoute, NodeBox } from '../layout';
import type { ConsoleEvent, GraphEdge, GraphNode, StateRun } from '../model';
import { statusLabel } from '../model';
import type { ExecutionSummary, GraphResponse } from '../service';

interface Choices {
  stateMachineArn?: string;
  endpoint: string;
  /** The app's sagas (the selector) and the one shown (`?saga=`, else the first). */
  sagas: string[];
  saga?: string;
  steps: string[];
  compensations: string[];
  faultModes: string[];
  statuses: string[];
  orderStatuses: string[];
  customers: string[];
  skus: string[];
  promos: string[];
  slots: string[];
}
interface ExecutionDetail {
  execution: ExecutionSummary & { input?: string; output?: string; error?: string; cause?: string };
  events: ConsoleEvent[];
  states: Record<string, StateRun>;
  takenEdges: string[];
}
type Row = Record<string, unknown>;
/** The order API's `GET /orders/{id}`: what the order-actions bar shows. */
interface OrderView {
  orderId: string;
  status: string;
  reason?: string;
  failedStep?: string;
  review?: { decision: string; note?: string };
  links: { cancel?: string; resume?: string; review?: string };
}

const API = '/_console/api';
/** The saga this page shows (`?saga=`): sent with every console API request. */
const SAGA = new URLSearchParams(location.search).get('saga');
const withSaga = (path: string) =>
  SAGA ? `${path}${path.includes('?') ? '&' : '?'}saga=${encodeURIComponent(SAGA)}` : path;
const SVG = 'http://www.w3.org/2000/svg';

const view = {
  choices: undefined as Choices | undefined,
  graph: undefined as GraphResponse | undefined,
  executions: [] as ExecutionSummary[],
  filter: '',
  orderFilter: '',
  order: undefined as OrderView | undefined,
  selectedArn: undefined as string | undefined,
  detail: undefined as ExecutionDetail | undefined,
  selectedState: undefined as string | undefined,
  /** Graph zoom: `fit` (the whole graph in the panel) or a scale factor. */
  zoom: 'fit' as 'fit' | number,
};

// ---------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

type Child = Node | string | number | undefined | null | false;
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
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

function svg(tag: string, attrs: Record<string, string | number | undefined> = {}): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs))
    if (value !== undefined) el.setAttribute(key, String(value));
  return el;
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${API}/${withSaga(path)}`, init);
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

function time(iso?: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function duration(start?: string, stop?: string): string {
  if (!start) return '';
  const ms = (stop ? Date.parse(stop) : Date.now()) - Date.parse(start);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function pretty(text?: string): string {
  if (text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function badge(status: string): HTMLElement {
  return h('span', { class: `badge ${status}` }, status);
}

function table(el: HTMLElement, headers: string[], rows: Child[][], caption?: string): void {
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

function money(minor: unknown): string {
  return typeof minor === 'number' ? (minor / 100).toFixed(2) : '';
}

// ---------------------------------------------------------------------------------------------------
// Start an order
// ---------------------------------------------------------------------------------------------------

function options(values: string[], selected?: string, empty?: string): HTMLOptionElement[] {
  return [
    ...(empty !== undefined ? [h('option', { value: '' }, empty)] : []),
    ...values.map((v) => h('option', { value: v, selected: v === selected }, v)),
  ];
}

function select(name: string, label: string, values: string[], selected?: string, empty?: string) {
  return h(
    'label',
    {},
    label,
    h('select', { name, 'aria-label': label }, ...options(values, selected, empty)),
  );
}

function buildForm(choices: Choices): void {
  const form = $('order-form') as HTMLFormElement;
  const items = h('div', { class: 'items' });
  const addItem = (sku?: string) => {
    const n = items.children.length + 1;
    items.append(
      h(
        'div',
        { class: 'row' },
        select('sku', `Item ${n} SKU`, choices.skus, sku ?? choices.skus[0]),
        h(
          'label',
          {},
          `Quantity ${n}`,
          h('input', { name: 'quantity', type: 'number', min: 1, max: 1000, value: 1 }),
        ),
      ),
    );
  };
  addItem();
  const addButton = h('button', { type: 'button' }, '+ item');
  addButton.addEventListener('click', () => addItem());
  const presets: Array<[string, Record<string, string>]> = [
    ['Happy path', {}],
    ['Fail at ChargePayment', { stepAt: 'ChargePayment', stepMode: 'fail' }],
    [
      'Compensation fails',
      { stepAt: 'ChargePayment', stepMode: 'fail', compAt: 'RefundPayment', compMode: 'fail' },
    ],
    ['Transient ×2 at ReserveStock', { stepAt: 'ReserveStock', stepMode: 'transient:2' }],
    // An espresso machine for the richest customer: above the review threshold, it waits for a reviewer.
    ['Needs review', { customerId: 'customer-3', sku: 'SKU-2' }],
  ];
  const presetRow = h('div', { class: 'presets', role: 'group', 'aria-label': 'Demo presets' });
  for (const [label, values] of presets) {
    const button = h('button', { type: 'button', 'data-preset': label }, label);
    button.addEventListener('click', () => {
      for (const name of ['stepAt', 'stepMode', 'compAt', 'compMode']) {
        const field = form.elements.namedItem(name) as HTMLSelectElement;
        field.value = values[name] ?? (name.endsWith('Mode') ? 'fail' : '');
      }
      const customer = form.elements.namedItem('customerId') as HTMLSelectElement;
      customer.value = values.customerId ?? choices.customers[0] ?? '';
      const firstSku = form.querySelector('select[name=sku]') as HTMLSelectElement | null;
      if (firstSku) firstSku.value = values.sku ?? choices.skus[0] ?? '';
      $('order-result').textContent = `Preset "${label}" loaded: press Start order.`;
      (form.querySelector('button[type=submit]') as HTMLButtonElement).focus();
    });
    presetRow.append(button);
  }
  form.replaceChildren(
    presetRow,
    h(
      'div',
      { class: 'row' },
      select('customerId', 'Customer', choices.customers, choices.customers[0]),
      select('promoCode', 'Promo', choices.promos, undefined, '(none)'),
      select('deliverySlot', 'Delivery slot', choices.slots, choices.slots[0]),
    ),
    h('fieldset', {}, h('legend', {}, 'Items'), items, addButton),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Fault injection'),
      h(
        'div',
        { class: 'row' },
        select('stepAt', 'Fault at step', choices.steps, undefined, '(none)'),
        select('stepMode', 'Step fault mode', choices.faultModes, 'fail'),
      ),
      h(
        'div',
        { class: 'row' },
        select('compAt', 'Fault at compensation', choices.compensations, undefined, '(none)'),
        select('compMode', 'Compensation fault mode', choices.faultModes, 'fail'),
      ),
    ),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Start order')),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    void startOrder(form);
  };
}

async function startOrder(form: HTMLFormElement): Promise<void> {
  const data = new FormData(form);
  const value = (name: string) => String(data.get(name) ?? '');
  const skus = data.getAll('sku').map(String);
  const quantities = data.getAll('quantity').map(Number);
  const faults: Record<string, string> = {};
  if (value('stepAt')) faults[value('stepAt')] = value('stepMode');
  if (value('compAt')) {
    faults[value('compAt')] = value('compMode');
    // A compensation runs only when a later step fails: fail at the last step unless told otherwise.
    if (!value('stepAt')) faults.ConfirmOrder = 'fail';
  }
  const order = {
    orderId: `order-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    customerId: value('customerId'),
    items: skus.map((sku, i) => ({ sku, quantity: quantities[i] ?? 1 })),
    deliverySlot: value('deliverySlot'),
    ...(value('promoCode') ? { promoCode: value('promoCode') } : {}),
    ...(Object.keys(faults).length > 0 ? { faults } : {}),
  };
  const result = $('order-result');
  result.className = 'result';
  result.textContent = `Starting ${order.orderId}…`;
  try {
    const body = await api<{ executionArn?: string; orderId?: string; message?: string }>('orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    result.textContent = `Started ${order.orderId}${order.faults ? ` with faults ${JSON.stringify(order.faults)}` : ''}.`;
    if (body.executionArn) selectExecution(body.executionArn);
  } catch (error) {
    result.className = 'result error';
    result.textContent = `Not started: ${error instanceof Error ? error.message : String(error)}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Executions list
// ---------------------------------------------------------------------------------------------------

function renderExecutions(): void {
  const machine = (arn: string) => arn.split(':').pop() ?? arn;
  const rows = view.executions
    .filter((e) => !view.filter || e.status === view.filter)
    .map((e) => {
      const open = h('button', { type: 'button', class: 'link', 'data-execution': e.name }, e.name);
      open.addEventListener('click', () => selectExecution(e.executionArn));
      const row = [
        machine(e.stateMachineArn),
        open,
        badge(e.status),
        time(e.startDate),
        duration(e.startDate, e.stopDate),
      ];
      return row;
    });
  const el = $('executions');
  table(el, ['State machine', 'Name (order id)', 'Status', 'Started', 'Duration'], rows);
  const body = el.querySelector('tbody');
  view.executions
    .filter((e) => !view.filter || e.status === view.filter)
    .forEach((e, i) => {
      if (e.executionArn === view.selectedArn) body?.children[i]?.classList.add('selected');
    });
  if (rows.length === 0)
    el.append(h('tbody', {}, h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No executions yet.'))));
}

// ---------------------------------------------------------------------------------------------------
// Execution view: graph, state detail, history
// ---------------------------------------------------------------------------------------------------

function shapeFor(node: GraphNode, box: NodeBox): SVGElement {
  const { x, y, width: w, height: hgt } = box;
  if (node.type === 'Choice') {
    const d = 14;
    const points = [
      [x + d, y],
      [x + w - d, y],
      [x + w, y + hgt / 2],
      [x + w - d, y + hgt],
      [x + d, y + hgt],
      [x, y + hgt / 2],
    ];
    return svg('polygon', { class: 'shape', points: points.map((p) => p.join(',')).join(' ') });
  }
  const rx = node.type === 'Succeed' || node.type === 'Fail' ? hgt / 2 : node.type === 'Pass' ? 2 : 8;
  return svg('rect', { class: 'shape', x, y, width: w, height: hgt, rx });
}

function edgePath(route: EdgeRoute): string {
  const [first, ...rest] = route.points;
  if (!first) return '';
  if (route.curve && rest.length === 3) {
    const [c1, c2, end] = rest as [typeof first, typeof first, typeof first];
    return `M${first.x},${first.y} C${c1.x},${c1.y} ${c2.x},${c2.y} ${end.x},${end.y}`;
  }
  return `M${first.x},${first.y} ${rest.map((p) => `L${p.x},${p.y}`).join(' ')}`;
}

function renderGraph(): void {
  const container = $('graph');
  const g = view.graph;
  if (!g) {
    container.replaceChildren(h('p', { class: 'muted' }, 'No state machine deployed yet.'));
    return;
  }
  const { layout, graph } = g;
  const states = view.detail?.states ?? {};
  const taken = new Set(view.detail?.takenEdges ?? []);
  const root = svg('svg', {
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
    'data-zoom': String(view.zoom),
    role: 'group',
    'aria-label': `Graph of ${g.name}`,
  });
  const defs = svg('defs');
  for (const [id, color] of [
    ['arrow', '#80868b'],
    ['arrow-catch', '#c5221f'],
  ] as const) {
    const marker = svg('marker', {
      id,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 9,
      markerHeight: 9,
      markerUnits: 'userSpaceOnUse',
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
    defs.append(marker);
  }
  root.append(defs);
  for (const block of layout.blocks) {
    root.append(
      svg('rect', {
        class: `block ${block.path}`,
        x: block.x,
        y: block.y,
        width: block.width,
        height: block.height,
        rx: 10,
      }),
    );
    const title = svg('text', { class: 'block-title', x: block.x + 12, y: block.y + 20 });
    title.textContent = block.title;
    root.append(title);
  }
  const edgeById = new Map<string, GraphEdge>(graph.edges.map((e) => [e.id, e]));
  const labels: SVGElement[] = [];
  for (const route of layout.edges) {
    const edge = edgeById.get(route.id);
    if (!edge) continue;
    const catchEdge = edge.kind === 'catch';
    const path = svg('path', {
      class: `edge ${edge.kind}${taken.has(edge.id) ? ' taken' : view.detail ? ' untaken' : ''}`,
      d: edgePath(route),
      'marker-end': `url(#${catchEdge ? 'arrow-catch' : 'arrow'})`,
      'data-edge': edge.id,
    });
    const tip = svg('title');
    tip.textContent = `${edge.from} → ${edge.to}${edge.detail ? ` (${edge.kind === 'catch' ? 'Catch ' : ''}${edge.detail})` : ''}`;
    path.append(tip);
    root.append(path);
    if (edge.label && route.labelAt) {
      const text = svg('text', {
        class: `edge-label ${edge.kind}${taken.has(edge.id) ? ' taken' : view.detail ? ' untaken' : ''}`,
        x: route.labelAt.x,
        y: route.labelAt.y,
        'text-anchor': 'middle',
      });
      text.textContent = edge.label.length > 28 ? `${edge.label.slice(0, 27)}…` : edge.label;
      labels.push(text);
    }
  }
  const nodeById = new Map(graph.nodes.map((n) => [n.id, n]));
  const ordered = [...layout.nodes].sort((a, b) => {
    const pa = nodeById.get(a.id)?.path === 'forward' ? 0 : 1;
    const pb = nodeById.get(b.id)?.path === 'forward' ? 0 : 1;
    return pa - pb || a.y - b.y || a.x - b.x;
  });
  for (const box of ordered) {
    const node = nodeById.get(box.id);
    if (!node) continue;
    const run = states[node.id] ?? { status: 'not-reached' as const, retries: 0 };
    const label = statusLabel(run);
    const group = svg('g', {
      class: `state ${run.status}${view.selectedState === node.id ? ' selected' : ''}`,
      tabindex: 0,
      role: 'button',
      'data-state': node.id,
      'data-status': run.status,
      'data-retries': run.retries,
      'aria-label': `${node.id} (${node.type}): ${label}`,
      'aria-pressed': view.selectedState === node.id ? 'true' : 'false',
    });
    group.append(shapeFor(node, box));
    const type = svg('text', {
      class: 'type',
      x: box.x + box.width - 8,
      y: box.y + 12,
      'text-anchor': 'end',
    });
    type.textContent = node.type;
    const name = svg('text', {
      class: 'name',
      x: box.x + box.width / 2,
      y: box.y + 24,
      'text-anchor': 'middle',
    });
    name.textContent = node.id;
    const status = svg('text', {
      class: 'status',
      x: box.x + box.width / 2,
      y: box.y + 41,
      'text-anchor': 'middle',
    });
    status.textContent = label;
    group.append(type, name, status);
    const choose = () => selectState(node.id);
    group.addEventListener('click', choose);
    group.addEventListener('keydown', (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === 'Enter' || key === ' ') {
        event.preventDefault();
        choose();
      }
    });
    root.append(group);
  }
  root.append(...labels);
  const { scrollTop, scrollLeft } = container;
  container.replaceChildren(root);
  applyZoom();
  container.scrollTop = scrollTop;
  container.scrollLeft = scrollLeft;
}

/** Sizes the graph: `fit` scales it to the panel (never above 100 %), a number is a fixed scale. */
function applyZoom(): void {
  const container = $('graph');
  const root = container.querySelector('svg');
  const layout = view.graph?.layout;
  if (!root || !layout) return;
  const fit = Math.min(
    1,
    (container.clientWidth - 2) / layout.width,
    (container.clientHeight - 2) / layout.height,
  );
  const scale = view.zoom === 'fit' ? fit : view.zoom;
  root.setAttribute('width', String(Math.floor(layout.width * scale)));
  root.setAttribute('height', String(Math.floor(layout.height * scale)));
  $('zoom-level').textContent = `${Math.round(scale * 100)} %`;
}

function zoomBy(factor: number): void {
  const current = Number.parseFloat($('zoom-level').textContent ?? '100') / 100 || 1;
  view.zoom = Math.min(3, Math.max(0.3, Math.round(current * factor * 20) / 20));
  applyZoom();
}

function selectState(name: string): void {
  view.selectedState = name;
  renderGraph();
  renderStateDetail();
  const el = document.querySelector(`#graph [data-state="${CSS.escape(name)}"]`) as SVGGElement | null;
  el?.focus();
}

function renderStateDetail(): void {
  const el = $('state-detail');
  const name = view.selectedState;
  if (!name) return;
  const run = view.detail?.states[name];
  const node = view.graph?.graph.nodes.find((n) => n.id === name);
  const events = (view.detail?.events ?? []).filter((e) => run?.eventIds.includes(e.id));
  const field = (label: string, value?: string) =>
    value === undefined || value === '' ? [] : [h('dt', {}, label), h('dd', {}, h('pre', {}, pretty(value)))];
  el.replaceChildren(
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

function renderExecution(): void {
  const detail = view.detail;
  const summary = $('execution-summary');
  if (!detail) {
    $('execution-title').textContent = 'Execution';
    summary.replaceChildren(
      h('span', { class: 'muted' }, 'Start an order or pick an execution to see its graph.'),
    );
    $('history').replaceChildren();
  } else {
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
  renderGraph();
  renderStateDetail();
  renderOrder();
}

// ---------------------------------------------------------------------------------------------------
// The order behind the execution: status, reason, and the actions its links allow
// ---------------------------------------------------------------------------------------------------

function renderOrder(): void {
  const el = $('order-actions');
  const order = view.order;
  if (!order || !view.detail || order.orderId !== view.detail.execution.name) {
    el.replaceChildren();
    return;
  }
  const button = (label: string, action: 'cancel' | 'resume' | 'review', body: Record<string, string>) => {
    const b = h('button', { type: 'button', 'data-action': label.toLowerCase() }, label);
    b.addEventListener('click', () => {
      const note = (el.querySelector('input[name=review-note]') as HTMLInputElement | null)?.value.trim();
      void orderAction(order.orderId, action, action === 'review' && note ? { ...body, note } : body);
    });
    return b;
  };
  el.replaceChildren(
    h('span', {}, 'Order ', h('strong', {}, order.orderId), ' ', badge(order.status)),
    ...(order.reason ? [h('span', { 'data-testid': 'order-reason' }, `Reason ${order.reason}`)] : []),
    ...(order.links.review
      ? [
          h(
            'label',
            {},
            'Review note',
            h('input', { name: 'review-note', type: 'text', maxlength: 200, placeholder: 'optional' }),
          ),
          button('Approve', 'review', { decision: 'approve' }),
          button('Reject', 'review', { decision: 'reject' }),
        ]
      : []),
    ...(order.links.cancel ? [button('Cancel', 'cancel', {})] : []),
    ...(order.links.resume ? [button('Resume', 'resume', {})] : []),
  );
}

async function refreshOrder(orderId: string): Promise<void> {
  const order = await api<OrderView>(`order?id=${encodeURIComponent(orderId)}`).catch(() => undefined);
  if (order && order.orderId === view.detail?.execution.name) {
    view.order = order;
    renderOrder();
  }
}

async function orderAction(orderId: string, action: string, body: Record<string, string>): Promise<void> {
  const result = $('order-action-result');
  result.className = 'result';
  const what = action === 'review' ? `${body.decision === 'approve' ? 'Approving' : 'Rejecting'}` : action;
  result.textContent = `${what} ${orderId}…`;
  $('order-actions')
    .querySelectorAll('button')
    .forEach((b) => {
      b.disabled = true;
    });
  try {
    // JSON, like every change the console asks for: the API refuses anything else (cross-site requests).
    const answer = await api<{ status?: string; action?: string }>(
      `orders/${encodeURIComponent(orderId)}/${action}`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    result.textContent = `${action === 'review' ? `Review ${body.decision}` : action}: ${orderId} is ${answer.status ?? 'updated'}${answer.action ? ` (${answer.action})` : ''}.`;
  } catch (error) {
    result.className = 'result error';
    result.textContent = `${action} refused: ${error instanceof Error ? error.message : String(error)}`;
  }
  await refreshOrder(orderId);
  scheduleSideRefresh();
}

// ---------------------------------------------------------------------------------------------------
// DLQ and data
// ---------------------------------------------------------------------------------------------------

async function refreshDlq(): Promise<void> {
  const { messages } = await api<{ messages: Row[] }>('dlq');
  const el = $('dlq');
  table(
    el,
    ['Order', 'Step', 'Error', 'Cause', 'Sent'],
    messages.map((m) => [
      String(m.orderId ?? ''),
      String(m.step ?? ''),
      String(m.error ?? ''),
      String(m.cause ?? '').slice(0, 160),
      time(m.sentAt as string | undefined),
    ]),
  );
  if (messages.length === 0)
    el.append(
      h(
        'tbody',
        {},
        h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'Empty: every compensation succeeded.')),
      ),
    );
  ($('redrive') as HTMLButtonElement).disabled = messages.length === 0;
}

async function redrive(): Promise<void> {
  const report = $('redrive-report');
  const button = $('redrive') as HTMLButtonElement;
  button.disabled = true;
  report.hidden = false;
  report.textContent = 'Redriving…';
  try {
    // JSON, like every change the console asks for: the API refuses anything else (cross-site requests).
    const result = await api<{ ok: boolean; report?: unknown; payload?: unknown }>('redrive', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    report.textContent = `${result.ok ? 'Redrive report' : 'Redrive failed'}:\n${JSON.stringify(result.ok ? result.report : result.payload, null, 2)}`;
  } catch (error) {
    report.textContent = `Redrive failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  await Promise.all([refreshDlq(), refreshData()]).catch(() => undefined);
}

async function refreshData(): Promise<void> {
  const query = view.orderFilter ? `?orderStatus=${encodeURIComponent(view.orderFilter)}` : '';
  const data = await api<Record<'accounts' | 'inventory' | 'promos' | 'deliverySlots' | 'orders', Row[]>>(
    `data${query}`,
  );
  const mk = (caption: string, headers: string[], rows: Child[][]) => {
    const t = h('table', { class: 'grid-table', 'data-table': caption });
    table(t, headers, rows, caption);
    return t;
  };
  const num = (v: unknown) => h('td', { class: 'num' }, String(v ?? ''));
  $('data').replaceChildren(
    h(
      'div',
      { class: 'data-grid' },
      mk(
        'Balances',
        ['Customer', 'Balance'],
        data.accounts.map((a) => [String(a.customerId), h('td', { class: 'num' }, money(a.balance))]),
      ),
      mk(
        'Stock',
        ['SKU', 'Stock'],
        data.inventory.map((i) => [String(i.sku), num(i.stock)]),
      ),
      mk(
        'Promo uses left',
        ['Code', 'Uses left'],
        data.promos.map((p) => [String(p.code), num(p.usesLeft)]),
      ),
      mk(
        'Slot bookings',
        ['Slot', 'Booked / capacity'],
        data.deliverySlots.map((s) => [
          String(s.slotId),
          h('td', { class: 'num' }, `${s.booked} / ${s.capacity}`),
        ]),
      ),
    ),
    mk(
      'Orders',
      ['Order', 'Status', 'Total', 'Failed step / reason', 'Needs redrive'],
      data.orders.map((o) => [
        h('td', { 'data-order': String(o.orderId) }, String(o.orderId)),
        badge(String(o.status)),
        h('td', { class: 'num' }, money(o.total)),
        String(o.failedStep ?? (o.reason === undefined ? '' : o.reason)),
        Array.isArray(o.failedCompensations) ? o.failedCompensations.join(', ') : '',
      ]),
    ),
  );
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleSideRefresh(): void {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    void Promise.all([refreshDlq(), refreshData()]).catch(() => undefined);
  }, 250);
}

// ---------------------------------------------------------------------------------------------------
// Selection, live stream, boot
// ---------------------------------------------------------------------------------------------------

let source: EventSource | undefined;

function connect(): void {
  source?.close();
  const live = $('live');
  const query = view.selectedArn ? `?arn=${encodeURIComponent(view.selectedArn)}` : '';
  source = new EventSource(`${API}/${withSaga(`stream${query}`)}`);
  source.onopen = () => {
    live.className = 'live on';
    live.textContent = 'live';
  };
  source.onerror = () => {
    live.className = 'live off';
    live.textContent = 'reconnecting…';
  };
  source.addEventListener('executions', (event) => {
    view.executions = JSON.parse((event as MessageEvent<string>).data) as ExecutionSummary[];
    renderExecutions();
    scheduleSideRefresh();
  });
  source.addEventListener('order', (event) => {
    const order = JSON.parse((event as MessageEvent<string>).data) as OrderView;
    if (order.orderId !== view.detail?.execution.name) return;
    view.order = order;
    renderOrder();
    scheduleSideRefresh();
  });
  source.addEventListener('execution', (event) => {
    const detail = JSON.parse((event as MessageEvent<string>).data) as ExecutionDetail;
    if (detail.execution.executionArn !== view.selectedArn) return;
    view.detail = detail;
    renderExecution();
    scheduleSideRefresh();
  });
}

function selectExecution(arn: string): void {
  if (view.selectedArn !== arn) {
    view.selectedArn = arn;
    view.detail = undefined;
    view.selectedState = undefined;
    view.order = undefined;
    $('order-action-result').textContent = '';
    history.replaceState(null, '', `#${encodeURIComponent(arn)}`);
  }
  renderExecutions();
  void api<ExecutionDetail>(`execution?arn=${encodeURIComponent(arn)}`)
    .then((detail) => {
      if (detail.execution.executionArn !== view.selectedArn) return;
      view.detail = detail;
      renderExecution();
      return refreshOrder(detail.execution.name);
    })
    .catch((error: unknown) => {
      $('execution-summary').textContent =
        `Cannot load ${arn}: ${error instanceof Error ? error.message : String(error)}`;
    });
  connect();
}

async function boot(): Promise<void> {
  let choices = await api<Choices>('choices');
  // A saga without a start form in the app config (e.g. the transfer): executions, graph and DLQ only.
  const hasForm = Array.isArray(choices.customers);
  // Right after start-up the tables may still be loading: wait (briefly) for something to offer.
  for (let i = 0; hasForm && i < 10 && choices.customers.length === 0; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    choices = await api<Choices>('choices');
  }
  view.choices = choices;
  $('machine').textContent =
    `${choices.stateMachineArn ?? 'no state machine'} · endpoint ${choices.endpoint}`;
  const sagaSelect = $('saga-select') as HTMLSelectElement;
  sagaSelect.replaceChildren(...options(choices.sagas, choices.saga));
  ($('saga-choice') as HTMLElement).hidden = choices.sagas.length < 2;
  sagaSelect.addEventListener('change', () => {
    location.search = `?saga=${encodeURIComponent(sagaSelect.value)}`;
  });
  if (hasForm) buildForm(choices);
  ($('start-panel') as HTMLElement).hidden = !hasForm;
  ($('data-panel') as HTMLElement).hidden = !hasForm;
  const filter = $('status-filter') as HTMLSelectElement;
  filter.replaceChildren(...options(choices.statuses, undefined, 'All'));
  filter.addEventListener('change', () => {
    view.filter = filter.value;
    renderExecutions();
  });
  const orderFilter = $('order-filter') as HTMLSelectElement;
  orderFilter.replaceChildren(...options(choices.orderStatuses ?? [], undefined, 'All'));
  orderFilter.addEventListener('change', () => {
    view.orderFilter = orderFilter.value;
    void refreshData().catch(() => undefined);
  });
  $('redrive').addEventListener('click', () => void redrive());
  $('zoom-fit').addEventListener('click', () => {
    view.zoom = 'fit';
    applyZoom();
  });
  $('zoom-in').addEventListener('click', () => zoomBy(1.25));
  $('zoom-out').addEventListener('click', () => zoomBy(0.8));
  $('zoom-reset').addEventListener('click', () => {
    view.zoom = 1;
    applyZoom();
  });
  window.addEventListener('resize', () => applyZoom());
  view.graph = await api<GraphResponse>('graph').catch(() => undefined);
  renderExecution();
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (fromHash) selectExecution(fromHash);
  else connect();
  scheduleSideRefresh();
}

void boot().catch((error: unknown) => {
  $('live').textContent = `console error: ${error instanceof Error ? error.message : String(error)}`;
});
