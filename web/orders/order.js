// Pizza orders: the order form (crust and cheese selects, a multi-select of toppings from the
// server's menu; an admin may also make the kitchen quick) and one order's page, its status
// pushed live by the server (server-sent events) until it is delivered or rejected.

import { api } from '../shared/http.js';
import { badge, field, h, notice, replace, showFieldError } from '../shared/dom.js';
import { follow } from '../shared/live.js';
import { me } from '../shared/session.js';

/** The seed's statuses, in the order an order goes through them. */
export const STEPS = ['ORDER_RECEIVED', 'ORDER_PREPARING', 'ORDER_BAKING', 'ORDER_PENDING_PICKUP', 'ORDER_OUT_FOR_DELIVERY', 'ORDER_DELIVERED'];

/** A status as words: ORDER_OUT_FOR_DELIVERY → out for delivery. */
export const words = (status) => (status || 'unknown').replace(/^(ORDER|CRUST|CHEESE)_/, '').replaceAll('_', ' ').toLowerCase();

export function statusClass(status) {
  if (status === 'ORDER_DELIVERED') return 'ok';
  if (status === 'ORDER_REJECTED') return 'bad';
  if (status === 'ORDER_PENDING_PICKUP') return 'wait';
  return 'busy';
}

const FIELDS = ['order-id', 'order-crust', 'order-cheese', 'order-toppings', 'order-step-ms'];
const FIELD_OF = { id: 'order-id', crust: 'order-crust', cheese: 'order-cheese', toppings: 'order-toppings' };

export async function ordersPage(main) {
  document.title = 'Pizza orders · Ordo';
  let menu = { crusts: [], cheeses: [], toppings: [] };
  const out = h('div', {});
  try { menu = await api('GET', '/api/orders/menu'); } catch (e) { replace(out, notice(e.message, 'error')); }
  const id = h('input', { id: 'order-id', name: 'id', value: `manual-${Math.floor(Math.random() * 1000)}`, maxlength: 120, required: true });
  const crust = h('select', { id: 'order-crust', name: 'crust' }, menu.crusts.map((c) => h('option', { value: c }, words(c))));
  const cheese = h('select', { id: 'order-cheese', name: 'cheese' }, menu.cheeses.map((c) => h('option', { value: c }, words(c))));
  const toppings = h('select', { id: 'order-toppings', name: 'toppings', multiple: true, size: 8 }, menu.toppings.map((t) => h('option', { value: t }, t)));
  const admin = (me() || {}).role === 'admin';
  const stepMs = h('input', { id: 'order-step-ms', type: 'number', min: 0, max: 120000, placeholder: 'the demo’s seconds' });
  const form = h('form', { class: 'card request-form', novalidate: true },
    h('h2', {}, 'Order a pizza'),
    h('div', { class: 'field-row' }, field('Order id', 'order-id', id, 'The order’s id becomes <id>--<uuid>.'), field('Crust', 'order-crust', crust), field('Cheese', 'order-cheese', cheese)),
    field('Toppings', 'order-toppings', toppings, 'At most 20; Ctrl or ⌘ to pick several.'),
    admin ? field('Kitchen step (ms, admin)', 'order-step-ms', stepMs, 'Every step of this order takes this long (quick demos and tests).') : null,
    h('p', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Place the order')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    FIELDS.forEach((f) => showFieldError(form, f, ''));
    replace(form.querySelector('.form-error'));
    const body = { id: id.value.trim(), crust: crust.value, cheese: cheese.value, toppings: [...toppings.selectedOptions].map((o) => o.value) };
    if (admin && stepMs.value !== '') {
      const ms = Number(stepMs.value);
      body.kitchen = { prepareMs: ms, bakeMs: ms, pickupMs: ms, deliverMs: ms, retryMs: Math.max(10, ms) };
    }
    try {
      const placed = await api('POST', '/api/orders', body);
      location.assign(`/orders/${encodeURIComponent(placed.order.id)}`);
    } catch (e) {
      const where = FIELD_OF[e.field] || (e.field && e.field.startsWith('kitchen') ? 'order-step-ms' : null);
      if (where && form.querySelector(`#${where}`)) showFieldError(form, where, e.message);
      else replace(form.querySelector('.form-error'), e.field ? `${e.field}: ${e.message}` : e.message);
    }
  });
  replace(main, h('h1', {}, 'Pizza orders'), out, form,
    h('p', {}, h('a', { href: '/orders/stats' }, 'Live stats of every order'), ' · orders are seed 002’s ', h('code', {}, 'PizzaWorkflow'), ' on Temporal.'));
}

export function orderPage(main, id) {
  document.title = `${id} · Pizza orders · Ordo`;
  const body = h('div', { 'data-testid': 'order' }, h('p', { class: 'muted' }, 'Loading…'));
  const live = h('p', { class: 'live muted', role: 'status' });
  replace(main, h('h1', {}, 'Order ', h('span', { class: 'run-id' }, id)), body, live, h('p', {}, h('a', { href: '/orders' }, 'Order another'), ' · ', h('a', { href: '/orders/stats' }, 'Stats')));
  const url = `/api/orders/${encodeURIComponent(id)}`;
  follow({
    url,
    events: { url: `${url}/events`, name: 'order' },
    status: live,
    ended: 'The order is over.',
    running: (view) => view.executionStatus === 'Running',
    render: (view) => renderOrder(body, view),
    missing: () => replace(main, h('h1', {}, 'No such order'), notice(`There is no order with id ${id}.`, 'error'), h('p', {}, h('a', { href: '/orders' }, 'Order a pizza'))),
  });
}

function renderOrder(box, view) {
  const s = view.status;
  const o = s.order || {};
  const at = STEPS.indexOf(s.status);
  replace(box,
    h('p', {}, h('span', { 'data-testid': 'order-status', class: `badge ${statusClass(s.status)}` }, s.status), ' ',
      h('span', { class: 'muted' }, `${view.executionStatus}`), view.stale ? h('span', { class: 'muted' }, ' · no worker answered: last status known, may be stale') : null),
    s.reason ? notice(`Rejected: ${s.reason}`, 'bad') : null,
    h('ol', { class: 'steps' }, STEPS.map((step, i) => h('li', { class: i < at || s.status === 'ORDER_DELIVERED' ? 'done' : i === at ? 'current' : 'todo', 'aria-current': i === at ? 'step' : null }, words(step)))),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Crust'), h('dd', {}, words(o.crust || 'CRUST_NORMAL')),
      h('dt', {}, 'Cheese'), h('dd', {}, words(o.cheese || 'CHEESE_MOZZARELLA')),
      h('dt', {}, 'Toppings'), h('dd', {}, (o.toppings || []).join(', ') || 'none'),
      h('dt', {}, 'Run'), h('dd', {}, h('code', {}, s.runId || '–'))));
}
