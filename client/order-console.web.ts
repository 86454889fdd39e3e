/// <reference lib="dom" />
/**
 * The order saga's part of the console page (the app config's `console.web`, bundled by the console
 * with its own page): the start-an-order form with fault injection and presets, the data panels
 * (balances, stock, promos, slot bookings, orders), and the order actions bar (status, reason, and the
 * actions the order API's `links` allow). It reads the JSON of `order-console.ts`'s hooks, whose types
 * it imports, and the saga's names (steps, fault modes, statuses, actions) from the contract.
 */
import {
  COMPENSATION_NAMES,
  type CompensationName,
  FAULT_MODES,
  type FaultMode,
  type FaultPlan,
  ORDER_STATUSES,
  type OrderAction,
  type OrderStatus,
  STEP_NAMES,
  type StepName,
} from '../lib/contract';
import {
  badge,
  type Child,
  errorText,
  h,
  options,
  report,
  select,
  type Tone,
  table,
} from '../localcloud/console/web/dom';
import type { ConsolePage, WebExtension } from '../localcloud/console/web/extension';
import type { OrderChoices, OrderData, OrderView } from './order-console';

interface Preset {
  label: string;
  stepAt?: StepName;
  stepMode?: FaultMode;
  compAt?: CompensationName;
  compMode?: FaultMode;
  customerId?: string;
  sku?: string;
}

const PRESETS: readonly Preset[] = [
  { label: 'Happy path' },
  { label: 'Fail at ChargePayment', stepAt: 'ChargePayment', stepMode: 'fail' },
  {
    label: 'Compensation fails',
    stepAt: 'ChargePayment',
    stepMode: 'fail',
    compAt: 'RefundPayment',
    compMode: 'fail',
  },
  { label: 'Transient ×2 at ReserveStock', stepAt: 'ReserveStock', stepMode: 'transient:2' },
  // An espresso machine for the richest customer: above the review threshold, it waits for a reviewer.
  { label: 'Needs review', customerId: 'customer-3', sku: 'SKU-2' },
];

/** A compensation runs only when a later step fails: the step failed when only a compensation fault is set. */
const LAST_STEP: StepName = STEP_NAMES[STEP_NAMES.length - 1] ?? 'ConfirmOrder';

function drawForm(
  form: HTMLFormElement,
  result: HTMLElement,
  choices: OrderChoices,
  page: ConsolePage,
): void {
  const items = h('div', { class: 'items' });
  const addItem = () => {
    const n = items.children.length + 1;
    items.append(
      h(
        'div',
        { class: 'row' },
        select('sku', `Item ${n} SKU`, choices.skus, choices.skus[0]),
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
  const field = (name: string) => form.elements.namedItem(name) as HTMLSelectElement;
  const presetRow = h('div', { class: 'presets', role: 'group', 'aria-label': 'Demo presets' });
  for (const preset of PRESETS) {
    const button = h('button', { type: 'button', 'data-preset': preset.label }, preset.label);
    button.addEventListener('click', () => {
      field('stepAt').value = preset.stepAt ?? '';
      field('stepMode').value = preset.stepMode ?? 'fail';
      field('compAt').value = preset.compAt ?? '';
      field('compMode').value = preset.compMode ?? 'fail';
      field('customerId').value = preset.customerId ?? choices.customers[0] ?? '';
      const firstSku = form.querySelector('select[name=sku]') as HTMLSelectElement | null;
      if (firstSku) firstSku.value = preset.sku ?? choices.skus[0] ?? '';
      result.textContent = `Preset "${preset.label}" loaded: press Start order.`;
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
        select('stepAt', 'Fault at step', STEP_NAMES, undefined, '(none)'),
        select('stepMode', 'Step fault mode', FAULT_MODES, 'fail'),
      ),
      h(
        'div',
        { class: 'row' },
        select('compAt', 'Fault at compensation', COMPENSATION_NAMES, undefined, '(none)'),
        select('compMode', 'Compensation fault mode', FAULT_MODES, 'fail'),
      ),
    ),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Start order')),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    void startOrder(form, result, page);
  };
}

async function startOrder(form: HTMLFormElement, result: HTMLElement, page: ConsolePage): Promise<void> {
  const data = new FormData(form);
  const value = (name: string) => String(data.get(name) ?? '');
  const quantities = data.getAll('quantity').map(Number);
  const faults: Record<string, string> = {};
  if (value('stepAt')) faults[value('stepAt')] = value('stepMode');
  if (value('compAt')) {
    faults[value('compAt')] = value('compMode');
    if (!value('stepAt')) faults[LAST_STEP] = 'fail';
  }
  const order = {
    orderId: `order-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    customerId: value('customerId'),
    items: data.getAll('sku').map((sku, i) => ({ sku: String(sku), quantity: quantities[i] ?? 1 })),
    deliverySlot: value('deliverySlot'),
    ...(value('promoCode') ? { promoCode: value('promoCode') } : {}),
    ...(Object.keys(faults).length > 0 ? { faults: faults as FaultPlan } : {}),
  };
  report(result, `Starting ${order.orderId}…`);
  try {
    const body = await page.api.start(order);
    report(
      result,
      `Started ${order.orderId}${order.faults ? ` with faults ${JSON.stringify(order.faults)}` : ''}.`,
    );
    if (body.executionArn) page.select(body.executionArn);
  } catch (error) {
    report(result, `Not started: ${errorText(error)}`, true);
  }
}

/** The colour of each order status's badge. */
const ORDER_TONES: Record<OrderStatus, Tone> = {
  PENDING: 'run',
  AWAITING_REVIEW: 'run',
  CANCELLING: 'run',
  CONFIRMED: 'ok',
  CANCELLED: 'caught',
  NEEDS_ATTENTION: 'bad',
};
const orderBadge = (status: unknown) => badge(String(status), ORDER_TONES[status as OrderStatus]);

const money = (minor: unknown) => (typeof minor === 'number' ? (minor / 100).toFixed(2) : '');
const num = (v: unknown) => h('td', { class: 'num' }, String(v ?? ''));

function drawData(head: HTMLElement, body: HTMLElement, page: ConsolePage): () => Promise<void> {
  const filter = h(
    'select',
    { id: 'order-filter', 'aria-label': 'Filter orders by status' },
    ...options(ORDER_STATUSES, undefined, 'All'),
  );
  head.replaceChildren(h('label', {}, 'Orders ', filter));
  const refresh = async () => {
    let data: OrderData;
    try {
      data = await page.api.data<OrderData>(filter.value ? { orderStatus: filter.value } : {});
    } catch (error) {
      body.replaceChildren(h('p', { class: 'result error' }, `Cannot read the data: ${errorText(error)}`));
      return;
    }
    const grid = (caption: string, headers: string[], rows: Child[][]) => {
      const t = h('table', { class: 'grid-table', 'data-table': caption });
      table(t, headers, rows, caption);
      return t;
    };
    body.replaceChildren(
      h(
        'div',
        { class: 'data-grid' },
        grid(
          'Balances',
          ['Customer', 'Balance'],
          data.accounts.map((a) => [String(a.customerId), h('td', { class: 'num' }, money(a.balance))]),
        ),
        grid(
          'Stock',
          ['SKU', 'Stock'],
          data.inventory.map((i) => [String(i.sku), num(i.stock)]),
        ),
        grid(
          'Promo uses left',
          ['Code', 'Uses left'],
          data.promos.map((p) => [String(p.code), num(p.usesLeft)]),
        ),
        grid(
          'Slot bookings',
          ['Slot', 'Booked / capacity'],
          data.deliverySlots.map((s) => [
            String(s.slotId),
            h('td', { class: 'num' }, `${s.booked} / ${s.capacity}`),
          ]),
        ),
      ),
      grid(
        'Orders',
        ['Order', 'Status', 'Total', 'Failed step / reason', 'Needs redrive'],
        data.orders.map((o) => [
          h('td', { 'data-order': String(o.orderId) }, String(o.orderId)),
          orderBadge(o.status),
          h('td', { class: 'num' }, money(o.total)),
          String(o.failedStep ?? (o.reason === undefined ? '' : o.reason)),
          Array.isArray(o.failedCompensations) ? o.failedCompensations.join(', ') : '',
        ]),
      ),
    );
  };
  filter.addEventListener('change', () => void refresh());
  return refresh;
}

/** The bar and the line reporting the last action (kept while the bar is redrawn). */
function drawOrder(el: HTMLElement, order: OrderView | undefined, page: ConsolePage): void {
  let bar = el.querySelector<HTMLElement>('#order-actions');
  let result = el.querySelector<HTMLElement>('#order-action-result');
  if (!bar || !result) {
    bar = h('section', { id: 'order-actions', class: 'item-actions', 'aria-label': 'Order actions' });
    result = h('p', { id: 'order-action-result', class: 'result', role: 'status', 'aria-live': 'polite' });
    el.replaceChildren(bar, result);
  }
  if (!order) {
    bar.replaceChildren();
    result.textContent = '';
    return;
  }
  const status = result;
  const button = (label: string, action: OrderAction, body: Record<string, string>) => {
    const b = h('button', { type: 'button', 'data-action': label.toLowerCase() }, label);
    b.addEventListener('click', () => {
      const note = (el.querySelector('input[name=review-note]') as HTMLInputElement | null)?.value.trim();
      void orderAction(
        el,
        status,
        page,
        order.orderId,
        action,
        action === 'review' && note ? { ...body, note } : body,
      );
    });
    return b;
  };
  bar.replaceChildren(
    h('span', {}, 'Order ', h('strong', {}, order.orderId), ' ', orderBadge(order.status)),
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

async function orderAction(
  el: HTMLElement,
  result: HTMLElement,
  page: ConsolePage,
  orderId: string,
  action: OrderAction,
  body: Record<string, string>,
): Promise<void> {
  const what = action === 'review' ? `${body.decision === 'approve' ? 'Approving' : 'Rejecting'}` : action;
  report(result, `${what} ${orderId}…`);
  el.querySelectorAll('button').forEach((b) => {
    b.disabled = true;
  });
  try {
    const answer = await page.api.action(orderId, action, body);
    report(
      result,
      `${action === 'review' ? `Review ${body.decision}` : action}: ${orderId} is ${answer.status ?? 'updated'}${answer.action ? ` (${answer.action})` : ''}.`,
    );
  } catch (error) {
    report(result, `${action} refused: ${errorText(error)}`, true);
  }
  await page.refreshItem();
  page.refreshSoon();
}

export default {
  noun: 'order',
  start: {
    title: 'Start an order',
    ready: (choices) => choices.customers.length > 0,
    draw: drawForm,
  },
  data: { draw: drawData },
  item: { id: (order) => order.orderId, draw: drawOrder },
} satisfies WebExtension<OrderChoices, OrderView>;
