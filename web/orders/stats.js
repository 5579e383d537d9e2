// The orders' stats, pushed live by the server (server-sent events): orders by status, delivered,
// rejected, failed (which must stay 0), order time p50/p99, delivered per 10 s (a hand-drawn SVG
// chart), and this server's chaos run (workers alive, kills, injected failures) and stream of
// orders. An admin starts and stops the stream and the chaos controller here.

import { api } from '../shared/http.js';
import { field, h, notice, replace } from '../shared/dom.js';
import { follow } from '../shared/live.js';
import { me } from '../shared/session.js';
import { STEPS, statusClass, words } from './order.js';

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (h() makes HTML ones). */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

/** Delivered per 10-s bucket as bars, the last 30 buckets (5 minutes), empty buckets included. */
function chart(throughput) {
  const width = 600;
  const height = 140;
  const pad = 24;
  if (!throughput.length) return h('p', { class: 'muted' }, 'Nothing delivered yet.');
  const step = 10_000;
  const last = throughput[throughput.length - 1][0];
  const first = Math.max(throughput[0][0], last - 29 * step);
  const counts = new Map(throughput.map(([at, n]) => [at, n]));
  const buckets = [];
  for (let at = first; at <= last; at += step) buckets.push([at, counts.get(at) || 0]);
  const max = Math.max(1, ...buckets.map(([, n]) => n));
  const bar = (width - 2 * pad) / buckets.length;
  const title = `Delivered per 10 s, ${new Date(first).toLocaleTimeString()} to ${new Date(last + step).toLocaleTimeString()}; most ${max}`;
  return svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title },
    svg('title', {}, title),
    svg('line', { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: 'axis' }),
    svg('text', { x: 2, y: pad - 8, class: 'tick' }, String(max)),
    svg('text', { x: pad, y: height - 6, class: 'tick' }, new Date(first).toLocaleTimeString()),
    svg('text', { x: width - pad, y: height - 6, class: 'tick', 'text-anchor': 'end' }, new Date(last + step).toLocaleTimeString()),
    ...buckets.map(([at, n], i) => {
      const tall = ((height - 2 * pad) * n) / max;
      return svg('rect', { x: pad + i * bar + 1, y: height - pad - tall, width: Math.max(1, bar - 2), height: tall, class: 'bar' },
        svg('title', {}, `${new Date(at).toLocaleTimeString()}: ${n}`));
    }));
}

const number = (label, value, testid, cls) => h('div', { class: `stat ${cls || ''}` }, h('span', { class: 'stat-value', 'data-testid': testid }, String(value)), h('span', { class: 'stat-label' }, label));
const ms = (v) => (v === null || v === undefined ? '–' : v < 10_000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);

function renderStats(box, view) {
  const chaos = view.chaos;
  const stream = view.stream;
  replace(box,
    h('div', { class: 'stats' },
      number('delivered', view.delivered, 'stat-delivered', 'ok'),
      number('rejected', view.rejected, 'stat-rejected'),
      number('failed (must stay 0)', view.failed, 'stat-failed', view.failed === 0 ? 'ok' : 'bad'),
      number('in progress', view.running, 'stat-running'),
      number('order time p50', ms(view.p50Ms), 'stat-p50'),
      number('order time p99', ms(view.p99Ms), 'stat-p99')),
    h('h2', {}, 'Orders by status'),
    h('div', { class: 'table-wrap' }, h('table', {}, h('tbody', {}, [...STEPS, 'ORDER_REJECTED'].map((s) =>
      h('tr', {}, h('th', {}, h('span', { class: `badge ${statusClass(s)}` }, words(s))), h('td', { 'data-status': s }, String((view.byStatus || {})[s] || 0))))))),
    h('h2', {}, 'Throughput'), chart(view.throughput || []),
    h('h2', {}, 'Chaos'),
    chaos ? h('div', { class: 'stats' },
      number('workers alive', chaos.report.alive, 'chaos-alive'),
      number('kills', chaos.report.kills, 'chaos-kills'),
      number('injected failures', chaos.injected, 'chaos-injected'),
      number('workers started', chaos.report.started, 'chaos-started'),
      h('p', { class: 'muted' }, chaos.running ? `Running: ${chaos.request.workers} workers, a kill every ${ms(chaos.request.killEveryMs)}, ${Math.round(chaos.request.failureRate * 100)} % of steps failing.` : 'Stopped.', chaos.error ? ` ${chaos.error}` : ''))
      : h('p', { class: 'muted' }, 'No chaos run on this server.'),
    h('h2', {}, 'Stream'),
    stream ? h('p', { 'data-testid': 'stream-status' }, `${stream.running ? 'Placing' : 'Placed'} ${stream.placed} of ${stream.request.count} orders`, stream.request.rate ? ` at ${stream.request.rate}/s` : ' at the seed’s pace', stream.error ? ` (stopped: ${stream.error})` : '', '.')
      : h('p', { class: 'muted' }, 'No stream of orders from this server yet.'));
}

/** A form that POSTs its numbers to `path` (start) with a stop button that DELETEs it. */
function control(title, path, inputs, toBody, refresh) {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const prefix = path.split('/').pop();
  const act = async (method, body) => {
    replace(error);
    try {
      await api(method, path, body);
      refresh();
    } catch (e) {
      replace(error, e.field ? `${e.field}: ${e.message}` : e.message);
    }
  };
  const form = h('form', { class: 'card inline-form', 'data-testid': `${prefix}-form`, novalidate: true },
    h('h3', {}, title),
    inputs.map(([label, id, input, hint]) => field(label, id, input, hint)),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Start'), h('button', { type: 'button', class: 'danger', onclick: () => act('DELETE') }, 'Stop')),
    error);
  form.addEventListener('submit', (event) => { event.preventDefault(); act('POST', toBody()); });
  return form;
}

const num = (id, value, min, max, extra = {}) => h('input', { id, type: 'number', value, min, max, ...extra });

function controls(refresh) {
  const count = num('stream-count', 20, 1, 100000);
  const rate = num('stream-rate', 5, 0.01, 1000, { step: 'any' });
  const step = num('stream-step-ms', 500, 0, 120000);
  const workers = num('chaos-workers', 3, 1, 16);
  const every = num('chaos-kill-every-ms', 5000, 0, 3600000);
  const rateF = num('chaos-failure-rate', 0.3, 0, 1, { step: 'any' });
  const opt = (input) => (input.value === '' ? undefined : Number(input.value));
  return h('div', {},
    control('Stream random orders', '/api/orders/stream', [
      ['Orders', 'stream-count', count], ['Per second', 'stream-rate', rate, 'Empty: one every 2–6 s, as the seed.'], ['Kitchen step (ms)', 'stream-step-ms', step, 'Empty: the demo’s seconds.'],
    ], () => ({ count: Number(count.value), rate: opt(rate), stepMs: opt(step) }), refresh),
    control('Chaos: kill workers, fail steps', '/api/orders/chaos', [
      ['Workers', 'chaos-workers', workers], ['Kill every (ms)', 'chaos-kill-every-ms', every, '0: never.'], ['Failure rate', 'chaos-failure-rate', rateF, 'Of every kitchen step, 0–1.'],
    ], () => ({ workers: Number(workers.value), killEveryMs: Number(every.value), failureRate: Number(rateF.value) }), refresh));
}

export function statsPage(main) {
  document.title = 'Stats · Pizza orders · Ordo';
  const box = h('div', { 'data-testid': 'order-stats' }, h('p', { class: 'muted' }, 'Loading…'));
  const live = h('p', { class: 'live muted', role: 'status' });
  const admin = (me() || {}).role === 'admin';
  let refresh = () => {};
  replace(main, h('h1', {}, 'Pizza orders: live stats'), live, box,
    admin ? h('section', { 'aria-labelledby': 'order-controls' }, h('h2', { id: 'order-controls' }, 'Controls (admin)'), controls(() => refresh())) : null,
    h('p', {}, h('a', { href: '/orders' }, 'Order a pizza')));
  refresh = follow({
    url: '/api/orders/stats',
    events: { url: '/api/orders/stats/events', name: 'stats' },
    status: live,
    ended: '',
    running: () => true,
    render: (view) => renderStats(box, view),
    missing: (e) => replace(box, notice(e.message, 'error')),
  });
}
