// A provisioning (or destroy) run's page, pushed live by the server's events: status and
// progress, the approval (decide.js), the TTL, the plan, the policy results, the outputs and the
// actions (re-plan, reset).

import { api, temporalLink } from '../shared/http.js';
import { badge, driverLabel, field, fmtTime, h, notice, outputValue, replace, showFieldError, tableWrap } from '../shared/dom.js';
import { follow } from '../shared/live.js';
import { me } from '../shared/session.js';
import { renderApproval, renderDecision } from './decide.js';

function statusClass(status) {
  if (['applied', 'destroyed'].includes(status)) return 'ok';
  if (['rejected', 'policy_hard_failed', 'failed', 'approval_expired'].includes(status)) return 'bad';
  if (status && status.includes('approval')) return 'wait';
  return 'busy';
}

/** A run status as a coloured pill. */
export function statusBadge(status) {
  return badge(status, statusClass(status));
}

export function runPage(main, id) {
  document.title = `${id} · Ordo`;
  const parts = {
    head: h('div', { class: 'run-head' }),
    stale: h('div'),
    progress: h('div'),
    approval: h('section', { class: 'card approval', 'aria-labelledby': 'approval-title', hidden: true }),
    decision: h('div'),
    ttl: h('section', { class: 'card', 'aria-labelledby': 'ttl-title', hidden: true }),
    plan: h('section', { 'aria-labelledby': 'plan-title' }),
    policy: h('section', { 'aria-labelledby': 'policy-title' }),
    outputs: h('section', { 'aria-labelledby': 'outputs-title' }),
    actions: h('section', { class: 'actions', 'aria-label': 'Run actions' }),
    live: h('p', { class: 'muted live', role: 'status' }, 'Connecting…'),
  };
  replace(main, h('p', {}, h('a', { href: '/' }, '← All runs')), parts.head, parts.stale, parts.progress, parts.approval, parts.decision, parts.ttl,
    parts.plan, parts.policy, parts.outputs, parts.actions, parts.live);
  const page = { id, parts, view: null, approvalForm: null, ttlTimer: null, ttlForm: null };
  const path = `/api/runs/${encodeURIComponent(id)}`;
  follow({
    url: path,
    events: { url: `${path}/events`, name: 'run' },
    status: parts.live,
    ended: 'The run has ended.',
    render: (view) => renderRun(page, view),
    missing: () => replace(main, h('h1', {}, 'No such run'), notice(`There is no run with id ${id}.`, 'error'), h('p', {}, h('a', { href: '/' }, 'Back to all runs'))),
  });
}

function renderRun(page, view) {
  page.view = view;
  const { parts } = page;
  const s = view.state;
  const running = view.execution_status === 'Running';
  const isDestroy = view.workflow_type === 'DeprovisionInfraWorkflow';

  replace(parts.head,
    h('h1', {}, isDestroy ? 'Destroy run' : 'Provisioning run', ' ', h('span', { class: 'run-id' }, view.workflow_id)),
    h('p', { class: 'meta' },
      statusBadge(s.status || 'starting'), ' ', h('span', { 'data-testid': 'status' }, s.status || 'starting'), ' · ', view.execution_status, ' · ',
      s.scenario ? [h('span', {}, 'scenario '), h('code', {}, s.scenario), ' · '] : null,
      s.directory ? [h('code', {}, s.directory), ' · '] : null,
      s.driver ? driverLabel(s.driver) : null, ' · ',
      h('a', { href: temporalLink(view.workflow_id), target: '_blank', rel: 'noopener' }, 'Open in Temporal Web UI')));

  replace(parts.stale, view.stale ? notice('No worker answered: this is the last known state, and it may lag. Start a worker (ordo worker) to resume.', 'warn') : null,
    s.error ? notice(s.error, 'error') : null);
  replace(parts.progress, progressBar(s.progress, 'Run progress'));

  renderApproval(page, view);
  renderDecision(parts.decision, s);
  renderTtl(page, view);
  renderPlan(parts.plan, s, isDestroy);
  renderPolicy(parts.policy, s);
  renderOutputs(parts.outputs, s, running);
  renderActions(page, view);
}

function progressBar(value, label) {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  const fill = h('div', { class: 'progress-fill' });
  fill.style.width = `${v}%`; // CSSOM, not a style attribute: the CSP forbids inline styles
  return h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': v, 'aria-label': label || 'Progress', 'data-testid': 'progress' },
    fill, h('span', { class: 'progress-text' }, `${v}%`));
}

function renderTtl(page, view) {
  const s = view.state;
  const box = page.parts.ttl;
  const waiting = s.destroy_at && s.status === 'waiting for destroy' && view.execution_status === 'Running';
  clearInterval(page.ttlTimer);
  box.hidden = !waiting;
  if (!waiting) { page.ttlForm = null; replace(box); return; }
  const countdown = h('strong', { 'data-testid': 'ttl-countdown', 'aria-live': 'off' });
  const tick = () => {
    const left = Math.max(0, Math.round((new Date(s.destroy_at) - Date.now()) / 1000));
    countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  };
  tick();
  page.ttlTimer = setInterval(tick, 1000);
  if (!page.ttlForm) {
    const form = h('form', { class: 'inline-form', novalidate: true },
      field('Extend by (seconds)', 'extend-seconds', h('input', { id: 'extend-seconds', name: 'seconds', type: 'number', min: 1, value: 60, inputmode: 'numeric' })),
      h('button', { type: 'submit' }, 'Extend'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showFieldError(form, 'extend-seconds', '');
      const seconds = Number(form.seconds.value);
      if (!Number.isInteger(seconds) || seconds < 1) return showFieldError(form, 'extend-seconds', 'A whole number of seconds, at least 1.');
      try {
        await api('POST', `/api/runs/${encodeURIComponent(page.id)}/extend`, { seconds });
      } catch (e) {
        showFieldError(form, 'extend-seconds', e.message);
      }
    });
    page.ttlForm = form;
  }
  replace(box, h('h2', { id: 'ttl-title' }, 'Time to live'),
    h('p', {}, 'Everything is destroyed in ', countdown, ` (at ${fmtTime(s.destroy_at)}).`), page.ttlForm);
}

const ACTION_CLASS = { create: 'create', update: 'update', delete: 'delete' };

function renderPlan(box, s, isDestroy) {
  if (isDestroy) return replace(box, h('h2', { id: 'plan-title' }, 'Destroy'), s.changes ? h('p', {}, `${s.changes.destroyed} destroyed.`) : h('p', { class: 'muted' }, 'Nothing destroyed yet.'));
  if (!s.plan_summary && !s.plan) return replace(box, h('h2', { id: 'plan-title' }, 'Plan'), h('p', { class: 'empty' }, 'No plan yet.'));
  const sum = s.plan_summary || { create: 0, update: 0, delete: 0 };
  const rows = s.resource_changes.filter((c) => !(c.actions.length === 1 && c.actions[0] === 'no-op'));
  replace(box, h('h2', { id: 'plan-title' }, 'Plan'),
    h('p', { 'data-testid': 'plan-summary' }, `${sum.create} to add, ${sum.update} to change, ${sum.delete} to destroy`, s.plan_attempts > 1 ? ` (plan #${s.plan_attempts})` : ''),
    rows.length ? tableWrap(h('table', { class: 'plan' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'Resource'), h('th', { scope: 'col' }, 'Type'))),
      h('tbody', {}, rows.map((c) => h('tr', {},
        h('td', {}, c.actions.map((a) => h('span', { class: `action ${ACTION_CLASS[a] || ''}` }, a))),
        h('td', {}, h('code', {}, c.address)), h('td', {}, c.type)))))) : h('p', { class: 'empty' }, 'No resource changes.'),
    s.plan ? h('details', {}, h('summary', {}, 'Raw plan'), h('pre', { class: 'raw-plan' }, s.plan)) : null,
    s.plan_hash ? h('p', { class: 'muted small' }, 'Plan hash ', h('code', {}, s.plan_hash.slice(0, 16)), '…') : null);
}

const LEVELS = [['hard-mandatory', 'Hard-mandatory (stops the run)'], ['soft-mandatory', 'Soft-mandatory (needs approval)'], ['advisory', 'Advisory']];

function renderPolicy(box, s) {
  if (!s.verdict && s.policy_results.length === 0) return replace(box);
  const verdicts = { pass: ['passed', 'ok'], needs_approval: ['needs approval', 'wait'], hard_fail: ['hard failure', 'bad'] };
  const [verdictText, verdictCls] = verdicts[s.verdict] || [s.verdict || 'pending', 'busy'];
  replace(box, h('h2', { id: 'policy-title' }, 'Policy ', badge(verdictText, verdictCls)),
    s.policy_results.length === 0 ? h('p', { class: 'empty' }, 'No policy findings.') : LEVELS.map(([level, title]) => {
      const results = s.policy_results.filter((r) => r.level === level);
      if (results.length === 0) return null;
      return h('div', { class: `policy-level ${level}`, 'data-level': level }, h('h3', {}, title),
        h('ul', {}, results.map((r) => h('li', {}, h('code', {}, `${r.policy}.${r.rule}`), ' ', r.message))));
    }));
}

function renderOutputs(box, s, running) {
  const names = Object.keys(s.outputs || {});
  if (names.length === 0) return replace(box, running ? null : [h('h2', { id: 'outputs-title' }, 'Outputs'), h('p', { class: 'empty' }, 'This run has no outputs.')]);
  replace(box, h('h2', { id: 'outputs-title' }, 'Outputs'), tableWrap(h('table', { class: 'outputs', 'data-testid': 'outputs' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Value'))),
    h('tbody', {}, names.map((name) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, outputValue(s.outputs[name]))))))));
}

function renderActions(page, view) {
  const s = view.state;
  const running = view.execution_status === 'Running';
  const isProvision = view.workflow_type === 'ProvisionInfraWorkflow';
  const user = me();
  const out = h('p', { class: 'field-error', role: 'alert' });
  const buttons = [];
  if (running && isProvision && !['applying', 'applied', 'waiting for destroy', 'destroying'].includes(s.status)) {
    buttons.push(h('button', { type: 'button', onclick: async (e) => {
      e.target.disabled = true; out.textContent = '';
      try { await api('POST', `/api/runs/${encodeURIComponent(page.id)}/replan`); replace(page.parts.live, 'Re-plan requested: the run continues as new with a fresh plan.'); } catch (err) { out.textContent = err.message; }
      e.target.disabled = false;
    } }, 'Re-plan'));
  }
  if (user && user.role === 'admin' && isProvision && s.plan_attempts > 0) {
    buttons.push(h('button', { type: 'button', class: 'danger', onclick: async (e) => {
      if (!window.confirm('Reset this run to its plan stage? The current run is terminated and a new one re-plans.')) return;
      e.target.disabled = true; out.textContent = '';
      try { await api('POST', `/api/runs/${encodeURIComponent(page.id)}/reset`, { reason: 'reset from the web UI' }); location.reload(); } catch (err) { out.textContent = err.message; e.target.disabled = false; }
    } }, 'Reset to plan stage'));
  }
  replace(page.parts.actions, buttons.length ? [h('h2', { class: 'sr-only' }, 'Actions'), h('div', { class: 'buttons' }, buttons), out] : null);
}
