// Ordo web UI: plain JavaScript, no build step. Every page path serves index.html; this script
// renders the page the path names, from the JSON API (/api/...): runs live through server-sent
// events, seed 000's application requests by polling their state.
// Text from the server is only ever inserted as text (never as HTML).
'use strict';

const $main = () => document.getElementById('main');

// ---- tiny DOM helper -------------------------------------------------------------------------

/** Creates an element: h('a', {href: '/'}, 'text', child, ...). `on*` attributes become listeners. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function replace(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// ---- API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.reason) || `HTTP ${status}`);
    this.status = status;
    this.kind = body && body.error;
    this.field = body && body.field;
  }
}

async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { error: 'network', reason: 'The Ordo server cannot be reached. Is it running?' });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = { error: 'bad_response', reason: text.slice(0, 200) }; }
  }
  if (response.status === 401 && location.pathname !== '/signin') {
    location.assign('/signin?next=' + encodeURIComponent(location.pathname + location.search));
    throw new ApiError(401, data);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// ---- shared state ----------------------------------------------------------------------------

let me = null; // {name, role}
let info = { temporal_ui_url: 'http://localhost:8233', namespace: 'default', demo_users: false };

function temporalLink(id) {
  return `${info.temporal_ui_url}/namespaces/${encodeURIComponent(info.namespace)}/workflows/${encodeURIComponent(id)}`;
}

/** Whether the signed-in user may decide a run listing `approvers` (the server checks again). */
function mayDecide(approvers) {
  if (!me) return false;
  if (me.role === 'admin') return true;
  if (me.role !== 'approver') return false;
  return approvers.length === 0 || approvers.includes(me.name);
}

function statusClass(status) {
  if (['applied', 'destroyed'].includes(status)) return 'ok';
  if (['rejected', 'policy_hard_failed', 'failed', 'approval_expired'].includes(status)) return 'bad';
  if (status && status.includes('approval')) return 'wait';
  return 'busy';
}

function badge(text, cls) {
  return h('span', { class: `badge ${cls || statusClass(text)}` }, text || 'starting');
}

function driverLabel(driver) {
  return driver === 'sim' ? h('span', { class: 'badge sim', title: 'The sim driver simulates a cloud: nothing real is created' }, 'simulation') : h('span', { class: 'badge' }, driver);
}

function notice(text, cls) {
  return h('p', { class: `notice ${cls || ''}`, role: cls === 'error' ? 'alert' : 'status' }, text);
}

function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function progressBar(value, label) {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  const fill = h('div', { class: 'progress-fill' });
  fill.style.width = `${v}%`; // CSSOM, not a style attribute: the CSP forbids inline styles
  return h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': v, 'aria-label': label || 'Progress', 'data-testid': 'progress' },
    fill, h('span', { class: 'progress-text' }, `${v}%`));
}

function tableWrap(table) {
  return h('div', { class: 'table-wrap' }, table);
}

function field(label, id, input, hint) {
  if (hint && !input.hasAttribute('aria-describedby')) input.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', { class: 'muted', id: `${id}-hint` }, hint) : null,
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' }));
}

function showFieldError(form, fieldId, message) {
  const out = form.querySelector(`#${fieldId}-error`);
  if (out) out.textContent = message || '';
  const input = form.querySelector(`#${fieldId}`);
  if (input) {
    const hint = form.querySelector(`#${fieldId}-hint`) ? ` ${fieldId}-hint` : '';
    if (message) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', `${fieldId}-error${hint}`); } else input.removeAttribute('aria-invalid');
  }
}

// ---- header ----------------------------------------------------------------------------------

function renderWho() {
  const who = document.getElementById('who');
  if (!me) return replace(who, h('a', { href: '/signin' }, 'Sign in'));
  replace(who, h('span', { 'data-testid': 'whoami' }, `${me.name} (${me.role})`), ' ',
    h('button', { type: 'button', class: 'link', onclick: async () => { await api('DELETE', '/api/session'); location.assign('/signin'); } }, 'Sign out'));
}

function markNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

// ---- sign-in page ----------------------------------------------------------------------------

function signInPage() {
  document.title = 'Sign in · Ordo';
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, 'Sign in'),
    field('Name', 'name', h('input', { id: 'name', name: 'name', autocomplete: 'username', required: true, autofocus: true })),
    field('Password', 'password', h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('p', { class: 'form-error', id: 'signin-error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    info.demo_users ? h('p', { class: 'muted' }, 'Demo users: alice (approver), bob (requester), admin (admin). Their passwords are printed by ', h('code', {}, 'ordo up'), '.') : null);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const out = form.querySelector('#signin-error');
    out.textContent = '';
    try {
      me = await api('POST', '/api/session', { name: form.name.value.trim(), password: form.password.value });
      const next = new URLSearchParams(location.search).get('next');
      location.assign(next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (e) {
      out.textContent = e.message;
      form.password.select();
    }
  });
  replace($main(), form);
}

// ---- home: scenarios and history -------------------------------------------------------------

async function homePage() {
  document.title = 'Runs · Ordo';
  markNav('home');
  const scenariosBox = h('section', { 'aria-labelledby': 'scenarios-title' }, h('h2', { id: 'scenarios-title' }, 'Run a scenario'), h('p', { class: 'muted' }, 'Loading scenarios…'));
  const historyBox = h('section', { 'aria-labelledby': 'history-title' });
  replace($main(), h('h1', {}, 'Provisioning runs'), scenariosBox, historyBox);
  try {
    const scenarios = await api('GET', '/api/scenarios');
    renderScenarios(scenariosBox, scenarios);
    renderHistory(historyBox, scenarios);
  } catch (e) {
    replace(scenariosBox, notice(`Could not load the scenarios: ${e.message}`, 'error'));
  }
}

function renderScenarios(box, scenarios) {
  const rows = scenarios.map((s) => {
    const ttlId = `ttl-${s.key}`;
    const cells = [];
    const form = h('form', { class: 'run-form', 'aria-label': `Run ${s.title}`, 'data-scenario': s.key, novalidate: true });
    if (s.key === 'ephemeral') {
      form.append(h('label', { for: ttlId, class: 'inline' }, 'TTL (s)'),
        h('input', { id: ttlId, name: 'ttl', type: 'number', min: 1, max: 2592000, value: 15, inputmode: 'numeric', class: 'ttl' }));
    }
    form.append(h('button', { type: 'submit', class: 'primary' }, 'Run'), h('p', { class: 'field-error', role: 'alert' }));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const out = form.querySelector('.field-error');
      out.textContent = '';
      const body = { scenario: s.key };
      if (form.ttl) {
        const ttl = Number(form.ttl.value);
        if (!Number.isInteger(ttl) || ttl < 1) { out.textContent = 'TTL: a whole number of seconds, at least 1'; form.ttl.focus(); return; }
        body.ttl = ttl;
      }
      const button = form.querySelector('button');
      button.disabled = true;
      try {
        const started = await api('POST', '/api/runs', body);
        location.assign(`/runs/${encodeURIComponent(started.workflow_id)}`);
      } catch (e) {
        out.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
        button.disabled = false;
      }
    });
    cells.push(h('th', { scope: 'row' }, s.title, h('br'), h('code', { class: 'muted' }, s.key)));
    cells.push(h('td', {}, s.description));
    cells.push(h('td', {}, h('code', {}, s.directory), ' ', driverLabel('sim')));
    cells.push(h('td', {}, form));
    return h('tr', { 'data-scenario': s.key }, cells);
  });
  replace(box, h('h2', { id: 'scenarios-title' }, 'Run a scenario'),
    h('p', { class: 'muted' }, 'Seed 001\'s scenarios, run with the sim driver (a simulated cloud).'),
    tableWrap(h('table', { class: 'scenarios' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Scenario'), h('th', { scope: 'col' }, 'What happens'), h('th', { scope: 'col' }, 'Directory'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Run')))), h('tbody', {}, rows))));
}

function renderHistory(box, scenarios) {
  const list = h('div', { 'aria-live': 'polite' });
  const scenarioSelect = h('select', { id: 'filter-scenario', name: 'scenario' }, h('option', { value: '' }, 'Any scenario'), scenarios.map((s) => h('option', { value: s.key }, s.title)));
  const statusSelect = h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, 'Any status'),
    ['awaiting_approval', 'applying', 'applied', 'waiting_for_destroy', 'destroyed', 'rejected', 'policy_hard_failed', 'approval_expired'].map((s) => h('option', { value: s }, s.replaceAll('_', ' '))));
  const form = h('form', { class: 'filters', 'aria-label': 'Filter runs' },
    h('label', { for: 'filter-scenario' }, 'Scenario'), scenarioSelect,
    h('label', { for: 'filter-status' }, 'Status'), statusSelect,
    h('button', { type: 'submit' }, 'Filter'));
  const load = async () => {
    const params = new URLSearchParams({ limit: '50' });
    if (scenarioSelect.value) params.set('scenario', scenarioSelect.value);
    if (statusSelect.value) params.set('status', statusSelect.value);
    replace(list, h('p', { class: 'muted' }, 'Loading runs…'));
    try {
      const rows = await api('GET', `/api/runs?${params}`);
      if (rows.length === 0) return replace(list, h('p', { class: 'empty' }, params.size > 1 ? 'No run matches these filters.' : 'No runs yet. Run a scenario above.'));
      replace(list, tableWrap(h('table', { class: 'history' },
        h('thead', {}, h('tr', {}, ['Run', 'Scenario', 'Status', 'Execution', 'Started', 'Temporal'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((r) => h('tr', {},
          h('td', {}, h('a', { href: `/runs/${encodeURIComponent(r.workflow_id)}` }, r.workflow_id)),
          h('td', {}, r.scenario || '–'),
          h('td', {}, r.provision_status ? badge(r.provision_status.replaceAll('_', ' ')) : '–'),
          h('td', {}, r.execution_status),
          h('td', {}, fmtTime(r.started_at)),
          h('td', {}, h('a', { href: temporalLink(r.workflow_id), target: '_blank', rel: 'noopener' }, 'open'))))))));
    } catch (e) {
      replace(list, notice(`Could not load the runs: ${e.message}`, 'error'));
    }
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  replace(box, h('h2', { id: 'history-title' }, 'Run history'), form, list);
  load();
}

// ---- run page --------------------------------------------------------------------------------

function runPage(id) {
  document.title = `${id} · Ordo`;
  markNav('');
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
  replace($main(), h('p', {}, h('a', { href: '/' }, '← All runs')), parts.head, parts.stale, parts.progress, parts.approval, parts.decision, parts.ttl,
    parts.plan, parts.policy, parts.outputs, parts.actions, parts.live);
  const page = { id, parts, view: null, approvalForm: null, ttlTimer: null, ttlForm: null };

  api('GET', `/api/runs/${encodeURIComponent(id)}`).then((view) => renderRun(page, view)).catch((e) => {
    if (e.status === 404) replace($main(), h('h1', {}, 'No such run'), notice(`There is no run with id ${id}.`, 'error'), h('p', {}, h('a', { href: '/' }, 'Back to all runs')));
    else replace(parts.live, notice(`Could not load the run: ${e.message}`, 'error'));
  });

  const events = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
  events.addEventListener('run', (event) => {
    renderRun(page, JSON.parse(event.data));
    parts.live.textContent = 'Live';
  });
  events.addEventListener('end', () => {
    events.close();
    parts.live.textContent = 'The run has ended.';
  });
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) return;
    parts.live.textContent = 'Live updates interrupted; reconnecting…';
  };
  window.addEventListener('pagehide', () => events.close());
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
      badge(s.status || 'starting'), ' ', h('span', { 'data-testid': 'status' }, s.status || 'starting'), ' · ', view.execution_status, ' · ',
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

function renderApproval(page, view) {
  const s = view.state;
  const box = page.parts.approval;
  const pending = s.approval_pending && view.execution_status === 'Running' && !view.stale;
  box.hidden = !pending;
  if (!pending) { page.approvalForm = null; replace(box); return; }
  const allowed = mayDecide(s.approvers);
  const approvals = s.approvals || [];
  const needed = s.approvals_required > 1
    ? ` Approvals: ${approvals.length} of ${s.approvals_required}${approvals.length ? ` (${approvals.map((a) => a.approver).join(', ')})` : ''}.`
    : '';
  const who = (s.approvers.length ? `Approvers: ${s.approvers.join(', ')}.` : 'Any approver may decide.') + needed;
  if (page.approvalForm && page.approvalForm.dataset.allowed === String(allowed)) {
    page.approvalForm.querySelector('.deadline').textContent = `${who} Decide before ${fmtTime(s.approval_deadline)}.`;
    return; // keep what the user is typing
  }
  const signal = s.scenario === 'human_in_the_loop_signal';
  const form = h('form', { class: 'decide', 'data-allowed': String(allowed), novalidate: true },
    h('p', { class: 'deadline' }, `${who} Decide before ${fmtTime(s.approval_deadline)}.`),
    field('Reason', 'reason', h('textarea', { id: 'reason', name: 'reason', rows: 3, maxlength: 2000, disabled: !allowed }),
      signal ? 'Seed 001\'s signal: the reason is optional.' : 'Required: recorded in the run\'s history with your name.'),
    h('fieldset', { class: 'via' }, h('legend', {}, 'Send as'),
      h('label', {}, h('input', { type: 'radio', name: 'via', value: 'update', checked: !signal, disabled: !allowed }), ' update (validated)'),
      h('label', {}, h('input', { type: 'radio', name: 'via', value: 'signal', checked: signal, disabled: !allowed }), ' signal')),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', name: 'decision', value: 'approve', class: 'primary', disabled: !allowed }, 'Approve'),
      h('button', { type: 'submit', name: 'decision', value: 'reject', class: 'danger', disabled: !allowed }, 'Reject')),
    allowed ? null : h('p', { class: 'notice warn', 'data-testid': 'cannot-decide' }, me && me.role === 'requester'
      ? `You are signed in as ${me.name}, a requester: only approvers can approve or reject plans.`
      : `You are not an approver of this run. ${who}`));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const approve = (event.submitter && event.submitter.value) !== 'reject';
    showFieldError(form, 'reason', '');
    const reason = form.reason.value.trim();
    const via = form.querySelector('input[name=via]:checked').value;
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', `/api/runs/${encodeURIComponent(page.id)}/${approve ? 'approve' : 'reject'}`, { reason, via });
      replace(page.parts.live, `${approve ? 'Approved' : 'Rejected'}; waiting for the run to continue…`);
    } catch (e) {
      // The workflow's validator speaks here (e.g. an empty reason): show it by the field.
      showFieldError(form, 'reason', e.message);
      form.reason.focus();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  page.approvalForm = form;
  replace(box, h('h2', { id: 'approval-title' }, 'Approval needed'),
    h('p', {}, 'A policy asks for a human decision on this plan. Review the changes and the policy results below.'), form);
}

function renderDecision(box, s) {
  const a = s.approval;
  if (!a) return replace(box);
  replace(box, h('p', { class: `notice ${a.is_approved ? 'ok' : 'bad'}`, 'data-testid': 'decision' },
    `${a.is_approved ? 'Approved' : 'Rejected'} by ${a.approver || 'an anonymous caller'} via ${a.via} at ${fmtTime(a.decided_at)}`,
    a.reason ? `: “${a.reason}”` : '.'));
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
    h('tbody', {}, names.map((name) => {
      const out = s.outputs[name];
      const value = out.sensitive ? h('span', { class: 'masked', title: 'Sensitive: never shown' }, '•••••• (sensitive)')
        : h('code', {}, typeof out.value === 'string' ? out.value : JSON.stringify(out.value));
      return h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, value));
    })))));
}

function renderActions(page, view) {
  const s = view.state;
  const running = view.execution_status === 'Running';
  const isProvision = view.workflow_type === 'ProvisionInfraWorkflow';
  const out = h('p', { class: 'field-error', role: 'alert' });
  const buttons = [];
  if (running && isProvision && !['applying', 'applied', 'waiting for destroy', 'destroying'].includes(s.status)) {
    buttons.push(h('button', { type: 'button', onclick: async (e) => {
      e.target.disabled = true; out.textContent = '';
      try { await api('POST', `/api/runs/${encodeURIComponent(page.id)}/replan`); replace(page.parts.live, 'Re-plan requested: the run continues as new with a fresh plan.'); } catch (err) { out.textContent = err.message; }
      e.target.disabled = false;
    } }, 'Re-plan'));
  }
  if (me && me.role === 'admin' && isProvision && s.plan_attempts > 0) {
    buttons.push(h('button', { type: 'button', class: 'danger', onclick: async (e) => {
      if (!window.confirm('Reset this run to its plan stage? The current run is terminated and a new one re-plans.')) return;
      e.target.disabled = true; out.textContent = '';
      try { await api('POST', `/api/runs/${encodeURIComponent(page.id)}/reset`, { reason: 'reset from the web UI' }); location.reload(); } catch (err) { out.textContent = err.message; e.target.disabled = false; }
    } }, 'Reset to plan stage'));
  }
  replace(page.parts.actions, buttons.length ? [h('h2', { class: 'sr-only' }, 'Actions'), h('div', { class: 'buttons' }, buttons), out] : null);
}

// ---- countdowns ------------------------------------------------------------------------------

/** "m:ss" (or "h:mm:ss") until `iso`, never negative. */
function timeLeft(iso) {
  const left = Math.max(0, Math.round((new Date(iso) - Date.now()) / 1000));
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = String(left % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A countdown to `iso` that every element of the page's one ticker updates each second. */
function countdown(iso) {
  return h('strong', { 'data-deadline': iso, 'data-testid': 'deadline-countdown', 'aria-live': 'off' }, timeLeft(iso));
}

setInterval(() => {
  for (const el of document.querySelectorAll('[data-deadline]')) el.textContent = timeLeft(el.dataset.deadline);
}, 1000);

// ---- applications (seed 000) -----------------------------------------------------------------

const APP_STATUSES = ['requested', 'checking_team', 'awaiting_authorization', 'provisioning', 'provisioned', 'rejected',
  'authorization_expired', 'destroying', 'destroyed', 'cancelled', 'failed'];
const DEMO_TEAMS = ['marketing', 'payments', 'platform', 'data'];
const REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-southeast-2'];

function appStatusClass(status) {
  if (['provisioned', 'destroyed'].includes(status)) return 'ok';
  if (['rejected', 'authorization_expired', 'failed', 'cancelled'].includes(status)) return 'bad';
  if (status === 'awaiting_authorization') return 'wait';
  return 'busy';
}

function appStatusText(status) {
  return (status || 'starting').replaceAll('_', ' ');
}

function appBadge(status) {
  return badge(appStatusText(status), appStatusClass(status));
}

/** A datalist for inputs to suggest from (created once per page). */
function datalist(id, values) {
  if (!document.getElementById(id)) document.body.append(h('datalist', { id }, values.map((v) => h('option', { value: v }))));
  return id;
}

/** Whether the signed-in user may authorize a request naming `authorizer` (the server checks again). */
function mayAuthorize(authorizer) {
  if (!me) return false;
  return me.role === 'admin' || (me.role === 'approver' && me.name === authorizer);
}

function teamText(s) {
  const t = s.Team;
  if (t) return [t.TeamName || t.TeamID, t.TeamEmail ? ` <${t.TeamEmail}>` : '', t.Subdomain ? ` · subdomain ${t.Subdomain}` : ''].join('');
  return s.Request ? `${s.Request.teamId} (not looked up yet)` : '–';
}

/**
 * The authorizer's form: region, profile, an optional reason, Approve / Reject. `key` keeps the
 * ids unique when several forms share a page. The server's refusals show next to their field.
 */
function authorizationForm(view, key, onSent) {
  const authorizer = view.state.Request ? view.state.Request.authorizerId : '';
  const allowed = mayAuthorize(authorizer);
  const ids = { region: `${key}-region`, profile: `${key}-profile`, reason: `${key}-reason` };
  datalist('regions', REGIONS);
  const form = h('form', { class: 'authorize', novalidate: true, 'data-testid': 'authorize-form' },
    h('div', { class: 'field-row' },
      field('Region', ids.region, h('input', { id: ids.region, name: 'region', list: 'regions', autocomplete: 'off', maxlength: 64, placeholder: 'us-east-1', disabled: !allowed }),
        'Where to provision (required to approve).'),
      field('Cloud profile', ids.profile, h('input', { id: ids.profile, name: 'profile', autocomplete: 'off', maxlength: 64, placeholder: 'iac', disabled: !allowed }),
        'Credentials to provision with (required to approve).')),
    field('Reason (optional)', ids.reason, h('textarea', { id: ids.reason, name: 'reason', rows: 2, maxlength: 900, disabled: !allowed })),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', name: 'decision', value: 'approve', class: 'primary', disabled: !allowed }, 'Approve'),
      h('button', { type: 'submit', name: 'decision', value: 'reject', class: 'danger', disabled: !allowed }, 'Reject')),
    h('p', { class: 'form-error', role: 'alert' }),
    allowed ? null : h('p', { class: 'notice warn', 'data-testid': 'cannot-authorize' }, me && me.role === 'requester'
      ? `You are signed in as ${me.name}, a requester: only ${authorizer}, the named authorizer, or an admin can authorize this request.`
      : `Only ${authorizer}, the named authorizer, or an admin can authorize this request.`));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const approve = (event.submitter && event.submitter.value) !== 'reject';
    Object.values(ids).forEach((id) => showFieldError(form, id, ''));
    const out = form.querySelector('.form-error');
    out.textContent = '';
    const body = { isApproved: approve };
    const reason = form.reason.value.trim();
    if (reason) body.reason = reason;
    if (approve) {
      body.region = form.region.value.trim();
      body.profile = form.profile.value.trim();
    }
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', `/api/applications/${encodeURIComponent(view.workflow_id)}/authorization`, body);
      onSent(approve);
    } catch (e) {
      if (e.field && ids[e.field]) {
        showFieldError(form, ids[e.field], e.message);
        form.querySelector(`#${ids[e.field]}`).focus();
      } else {
        out.textContent = e.message;
      }
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

/** Maps the API's field names to the request form's inputs. */
const REQUEST_FIELDS = { applicationName: 'app-name', teamId: 'app-team', authorizerId: 'app-authorizer', authorizationTimeoutSeconds: 'app-timeout' };

function applicationsPage() {
  document.title = 'Applications · Ordo';
  markNav('applications');
  const form = h('form', { class: 'card request-form', 'aria-labelledby': 'request-title', novalidate: true },
    h('h2', { id: 'request-title' }, 'Request an application'),
    h('p', { class: 'muted' }, 'The team is checked first; then the authorizer you name approves (choosing region and profile) or rejects. Approved applications are provisioned with the sim driver, a simulation.'),
    field('Application name', 'app-name', h('input', { id: 'app-name', name: 'applicationName', required: true, maxlength: 100, autocomplete: 'off' })),
    field('Team', 'app-team', h('input', { id: 'app-team', name: 'teamId', required: true, maxlength: 64, autocomplete: 'off', list: datalist('teams', DEMO_TEAMS) }),
      `A team in the workers' team directory (demo: ${DEMO_TEAMS.join(', ')}).`),
    field('Authorizer', 'app-authorizer', h('input', { id: 'app-authorizer', name: 'authorizerId', required: true, maxlength: 64, autocomplete: 'off' }),
      'An approver (or admin) who decides; the request appears in their inbox.'),
    field('Time to decide (seconds)', 'app-timeout', h('input', { id: 'app-timeout', name: 'authorizationTimeoutSeconds', type: 'number', min: 1, value: 120, inputmode: 'numeric' }),
      'Without a decision by then the request expires.'),
    h('p', { class: 'form-error', id: 'app-request-error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Request application'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(REQUEST_FIELDS).forEach((id) => showFieldError(form, id, ''));
    const out = form.querySelector('#app-request-error');
    out.textContent = '';
    const body = {
      applicationName: form.applicationName.value.trim(),
      teamId: form.teamId.value.trim(),
      authorizerId: form.authorizerId.value.trim(),
    };
    const missing = Object.entries(body).find(([, value]) => !value);
    if (missing) {
      showFieldError(form, REQUEST_FIELDS[missing[0]], 'Required.');
      return form.querySelector(`#${REQUEST_FIELDS[missing[0]]}`).focus();
    }
    const seconds = Number(form.authorizationTimeoutSeconds.value);
    if (!Number.isInteger(seconds) || seconds < 1) {
      showFieldError(form, 'app-timeout', 'A whole number of seconds, at least 1.');
      return form.authorizationTimeoutSeconds.focus();
    }
    body.authorizationTimeoutSeconds = seconds;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const started = await api('POST', '/api/applications', body);
      location.assign(`/applications/${encodeURIComponent(started.applicationId)}`);
    } catch (e) {
      const input = e.field && REQUEST_FIELDS[e.field];
      if (input) {
        showFieldError(form, input, e.message);
        form.querySelector(`#${input}`).focus();
      } else {
        out.textContent = e.message;
      }
      button.disabled = false;
    }
  });
  const listBox = h('section', { 'aria-labelledby': 'apps-title' });
  replace($main(), h('h1', {}, 'Applications'), form, listBox);
  renderApplicationList(listBox);
}

function renderApplicationList(box) {
  const list = h('div', { 'aria-live': 'polite' });
  const statusSelect = h('select', { id: 'filter-app-status', name: 'status' }, h('option', { value: '' }, 'Any status'),
    APP_STATUSES.map((s) => h('option', { value: s }, appStatusText(s))));
  const form = h('form', { class: 'filters', 'aria-label': 'Filter applications' },
    h('label', { for: 'filter-app-status' }, 'Status'), statusSelect, h('button', { type: 'submit' }, 'Filter'));
  const load = async () => {
    const params = new URLSearchParams({ limit: '50' });
    if (statusSelect.value) params.set('status', statusSelect.value);
    replace(list, h('p', { class: 'muted' }, 'Loading application requests…'));
    try {
      const rows = await api('GET', `/api/applications?${params}`);
      if (rows.length === 0) return replace(list, h('p', { class: 'empty' }, statusSelect.value ? 'No application request has this status.' : 'No application requests yet. Request one above.'));
      replace(list, tableWrap(h('table', { class: 'history' },
        h('thead', {}, h('tr', {}, ['Application', 'Status', 'Execution', 'Requested', 'Temporal'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((r) => h('tr', {},
          h('td', {}, h('a', { href: `/applications/${encodeURIComponent(r.workflow_id)}` }, r.workflow_id)),
          h('td', {}, r.status ? appBadge(r.status) : '–'),
          h('td', {}, r.execution_status),
          h('td', {}, fmtTime(r.started_at)),
          h('td', {}, h('a', { href: temporalLink(r.workflow_id), target: '_blank', rel: 'noopener' }, 'open'))))))));
    } catch (e) {
      replace(list, notice(`Could not load the application requests: ${e.message}`, 'error'));
    }
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  replace(box, h('h2', { id: 'apps-title' }, 'Application requests'), form, list);
  load();
}

function applicationPage(id) {
  document.title = `${id} · Ordo`;
  markNav('applications');
  const parts = {
    head: h('div', { class: 'run-head' }),
    notices: h('div'),
    details: h('section', { class: 'card', 'aria-labelledby': 'details-title' }),
    authorization: h('section', { class: 'card approval', 'aria-labelledby': 'authorize-title', hidden: true }),
    decision: h('div'),
    resources: h('section', { 'aria-labelledby': 'resources-title' }),
    destroyed: h('section', { 'aria-labelledby': 'destroyed-title' }),
    actions: h('section', { class: 'actions', 'aria-label': 'Application actions' }),
    live: h('p', { class: 'muted live', role: 'status' }, 'Loading…'),
  };
  replace($main(), h('p', {}, h('a', { href: '/applications' }, '← All applications')), parts.head, parts.notices, parts.details,
    parts.authorization, parts.decision, parts.resources, parts.destroyed, parts.actions, parts.live);
  const page = { id, parts, form: null, timer: null, loads: 0 };
  const load = async () => {
    clearTimeout(page.timer);
    // A newer load (after an action) supersedes one still in flight: one polling chain only.
    const mine = ++page.loads;
    let view;
    try {
      view = await api('GET', `/api/applications/${encodeURIComponent(id)}`);
      if (mine !== page.loads) return;
    } catch (e) {
      if (mine !== page.loads) return;
      if (e.status === 404) {
        replace(parts.head, h('h1', {}, 'Application not found'));
        replace(parts.live, notice(e.message, 'error'));
        return;
      }
      replace(parts.live, notice(`Could not refresh: ${e.message}. Retrying…`, 'warn'));
      page.timer = setTimeout(load, 2000);
      return;
    }
    renderApplication(page, view, load);
    if (view.execution_status === 'Running') {
      replace(parts.live, `Refreshed ${new Date().toLocaleTimeString()}`);
      page.timer = setTimeout(load, 1000);
    } else {
      replace(parts.live, 'The request has ended.');
    }
  };
  window.addEventListener('pagehide', () => clearTimeout(page.timer));
  load();
}

function renderApplication(page, view, reload) {
  const { parts } = page;
  const s = view.state;
  const r = s.Request;
  const running = view.execution_status === 'Running';
  replace(parts.head,
    h('h1', {}, r ? r.applicationName : 'Application', ' ', h('span', { class: 'run-id' }, view.workflow_id)),
    h('p', { class: 'meta' }, appBadge(s.Status), ' ', h('span', { 'data-testid': 'status' }, appStatusText(s.Status)), ' · ', view.execution_status, ' · ',
      h('a', { href: temporalLink(view.workflow_id), target: '_blank', rel: 'noopener' }, 'Open in Temporal Web UI')));
  replace(parts.notices,
    view.stale ? notice('No worker answered: this is the last known status, and it may lag. Start a worker (ordo worker) to resume.', 'warn') : null,
    s.Error ? notice(s.Error, 'error') : null);

  const row = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
  replace(parts.details, h('h2', { id: 'details-title' }, 'Request'),
    r ? h('dl', { class: 'facts' },
      row('Team', teamText(s)),
      row('Requested by', r.requesterId || '–'),
      row('Authorizer', r.authorizerId),
      s.AuthorizationDeadline ? row('Decide within', countdown(s.AuthorizationDeadline), ` (by ${fmtTime(s.AuthorizationDeadline)})`) : null,
      row('IaC', driverLabel(r.driver), ' ', h('code', {}, r.stack)),
      s.BucketName ? row('Bucket', h('code', {}, s.BucketName)) : null)
      : h('p', { class: 'empty' }, view.stale ? 'The request\'s details need a worker to answer.' : 'Starting…'));

  const awaiting = s.Status === 'awaiting_authorization' && running && !view.stale && r;
  parts.authorization.hidden = !awaiting;
  if (!awaiting) {
    page.form = null;
    replace(parts.authorization);
  } else if (!page.form) {
    // Built once while a decision is awaited, so refreshes keep what the user typed.
    page.form = authorizationForm(view, 'authorize', (approved) => {
      replace(parts.live, `${approved ? 'Approved' : 'Rejected'}; waiting for the request to continue…`);
      reload();
    });
    replace(parts.authorization, h('h2', { id: 'authorize-title' }, 'Authorization needed'),
      h('p', {}, `${r.requesterId || 'Someone'} asks for ${r.applicationName} for team ${r.teamId}. Approve with a region and a cloud profile, or reject.`), page.form);
  }

  const a = s.Authorization;
  if (a) {
    const who = a.authorizerId || 'the authorizer';
    replace(parts.decision, h('p', { class: `notice ${a.isApproved ? 'ok' : 'bad'}`, 'data-testid': 'app-decision' },
      `${a.isApproved ? 'Approved' : 'Rejected'} by ${who} at ${fmtTime(s.AuthorizedAt)}`,
      a.isApproved ? `: region ${a.region}, profile ${a.profile}` : '',
      a.reason ? ` — “${a.reason}”` : '.'));
  } else if (s.AuthorizationTimedOut) {
    replace(parts.decision, h('p', { class: 'notice bad', 'data-testid': 'app-decision' }, 'Nobody decided before the deadline: the request expired.'));
  } else {
    replace(parts.decision);
  }

  renderFoundation(parts.resources, s.Resources);
  const d = s.Destroyed;
  replace(parts.destroyed, d ? [h('h2', { id: 'destroyed-title' }, 'Decommissioned'),
    h('p', {}, `Destroyed by the ${d.worker} worker at ${fmtTime(d.completionDateTime)} `, driverLabel(d.driver)),
    h('ul', {}, d.summary.map((line) => h('li', {}, line)))] : null,
  s.Notes && s.Notes.length ? [h('h2', {}, 'Ignored decisions'), h('ul', { class: 'muted' }, s.Notes.map((n) => h('li', {}, n)))] : null);

  renderApplicationActions(page, view, reload);
}

function renderFoundation(box, res) {
  if (!res) return replace(box);
  const names = Object.keys(res.outputs || {});
  replace(box, h('h2', { id: 'resources-title' }, 'Provisioned'),
    h('p', {}, 'IaC step run by the ', h('strong', { 'data-testid': 'iac-worker' }, `${res.worker} worker`), ` in ${res.region} at ${fmtTime(res.completionDateTime)} `, driverLabel(res.driver)),
    h('ul', {}, res.summary.map((line) => h('li', {}, line))),
    names.length ? tableWrap(h('table', { class: 'outputs', 'data-testid': 'app-outputs' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Output'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', {}, names.map((name) => {
        const out = res.outputs[name];
        const value = out.sensitive ? h('span', { class: 'masked', title: 'Sensitive: never shown' }, '•••••• (sensitive)')
          : h('code', {}, typeof out.value === 'string' ? out.value : JSON.stringify(out.value));
        return h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, value));
      })))) : h('p', { class: 'empty' }, 'No outputs.'));
}

function renderApplicationActions(page, view, reload) {
  const s = view.state;
  if (view.execution_status !== 'Running' || s.Status === 'destroying') return replace(page.parts.actions);
  const holdsResources = ['provisioning', 'provisioned'].includes(s.Status);
  const out = h('p', { class: 'field-error', role: 'alert' });
  const button = h('button', { type: 'button', class: 'danger', onclick: async () => {
    const question = holdsResources
      ? 'Decommission this application? Everything it provisioned is destroyed.'
      : 'Withdraw this request? Nothing has been provisioned.';
    if (!window.confirm(question)) return;
    button.disabled = true;
    out.textContent = '';
    try {
      await api('DELETE', `/api/applications/${encodeURIComponent(page.id)}`);
      replace(page.parts.live, holdsResources ? 'Decommissioning: destroying what was provisioned…' : 'Withdrawing…');
      reload();
    } catch (e) {
      out.textContent = e.message;
      button.disabled = false;
    }
  } }, holdsResources ? 'Decommission' : 'Withdraw request');
  replace(page.parts.actions, h('h2', { class: 'sr-only' }, 'Actions'), h('div', { class: 'buttons' }, button), out);
}

// ---- inbox: authorizations and plan approvals ------------------------------------------------

async function inboxPage() {
  document.title = 'Inbox · Ordo';
  markNav('inbox');
  const authorizations = h('section', { 'aria-labelledby': 'authorizations-title' },
    h('h2', { id: 'authorizations-title' }, 'Application requests waiting for your authorization'), h('p', { class: 'muted' }, 'Loading…'));
  const plans = h('section', { 'aria-labelledby': 'plans-title' },
    h('h2', { id: 'plans-title' }, 'Plans waiting for a decision'), h('p', { class: 'muted' }, 'Loading…'));
  replace($main(), h('h1', {}, 'Inbox'), authorizations, plans);
  await Promise.all([renderAuthorizations(authorizations), renderPlanInbox(plans)]);
}

async function renderAuthorizations(box) {
  const title = h('h2', { id: 'authorizations-title' }, 'Application requests waiting for your authorization');
  let items;
  try {
    items = await api('GET', '/api/authorizations');
  } catch (e) {
    return replace(box, title, notice(`Could not load the pending authorizations: ${e.message}`, 'error'));
  }
  if (items.length === 0) return replace(box, title, h('p', { class: 'empty' }, 'No application request waits for your authorization.'));
  replace(box, title, items.map(({ application: view, can_decide: canDecide }, index) => {
    const s = view.state;
    const r = s.Request;
    const link = h('a', { href: `/applications/${encodeURIComponent(view.workflow_id)}` }, r ? r.applicationName : view.workflow_id);
    const article = h('article', { class: 'card inbox-item', 'data-application': view.workflow_id },
      h('h3', {}, link, ' ', h('span', { class: 'run-id' }, view.workflow_id)));
    if (!r) {
      article.append(notice('No worker answered: the request\'s details are unknown for now.', 'warn'));
      return article;
    }
    article.append(
      h('dl', { class: 'facts' },
        h('dt', {}, 'Team'), h('dd', {}, teamText(s)),
        h('dt', {}, 'Requested by'), h('dd', {}, r.requesterId || '–'),
        h('dt', {}, 'Authorizer'), h('dd', {}, r.authorizerId),
        s.AuthorizationDeadline ? [h('dt', {}, 'Decide within'), h('dd', {}, countdown(s.AuthorizationDeadline), ` (by ${fmtTime(s.AuthorizationDeadline)})`)] : null,
        h('dt', {}, 'IaC'), h('dd', {}, driverLabel(r.driver), ' ', h('code', {}, r.stack)),
        s.BucketName ? [h('dt', {}, 'Bucket'), h('dd', {}, h('code', {}, s.BucketName))] : null));
    if (canDecide) {
      const form = authorizationForm(view, `auth-${index}`, (approved) => {
        form.replaceWith(h('p', { class: `notice ${approved ? 'ok' : 'bad'}`, 'data-testid': 'authorization-sent' },
          approved ? 'Approved: provisioning starts. ' : 'Rejected. ', h('a', { href: link.getAttribute('href') }, 'Follow the request')));
      });
      article.append(form);
    } else {
      article.append(h('p', { class: 'muted' }, 'You cannot decide this one.'));
    }
    return article;
  }));
}

async function renderPlanInbox(box) {
  const title = h('h2', { id: 'plans-title' }, 'Plans waiting for a decision');
  try {
    const items = await api('GET', '/api/inbox');
    if (items.length === 0) return replace(box, title, h('p', { class: 'empty' }, 'No plan waits for a decision.'));
    replace(box, title, items.map(({ run, can_decide: canDecide }) => {
      const s = run.state;
      const sum = s.plan_summary || { create: 0, update: 0, delete: 0 };
      return h('article', { class: 'card inbox-item', 'data-run': run.workflow_id },
        h('h3', {}, h('a', { href: `/runs/${encodeURIComponent(run.workflow_id)}` }, run.workflow_id)),
        h('p', { class: 'meta' }, s.scenario ? [h('code', {}, s.scenario), ' · '] : null, h('code', {}, s.directory), ' · ', driverLabel(s.driver),
          ' · decide before ', fmtTime(s.approval_deadline)),
        h('p', {}, `${sum.create} to add, ${sum.update} to change, ${sum.delete} to destroy. `, s.approvers.length ? `Approvers: ${s.approvers.join(', ')}.` : 'Any approver may decide.'),
        h('ul', {}, s.policy_results.filter((r) => r.level !== 'advisory').map((r) => h('li', {}, h('span', { class: 'badge wait' }, r.level), ' ', r.message))),
        h('p', {}, canDecide ? h('a', { class: 'button primary', href: `/runs/${encodeURIComponent(run.workflow_id)}` }, 'Review and decide') : h('span', { class: 'muted' }, 'You cannot decide this one.')));
    }));
  } catch (e) {
    replace(box, title, notice(`Could not load the plans: ${e.message}`, 'error'));
  }
}

// ---- boot ------------------------------------------------------------------------------------

async function boot() {
  try { info = await api('GET', '/api/info'); } catch (e) { /* links fall back to the defaults */ }
  const path = location.pathname;
  if (path === '/signin') { renderWho(); return signInPage(); }
  try {
    me = await api('GET', '/api/session');
  } catch (e) {
    if (e.status !== 401) replace($main(), notice(e.message, 'error'));
    return;
  }
  renderWho();
  const run = path.match(/^\/runs\/(.+)$/);
  if (run) return runPage(decodeURIComponent(run[1]));
  const application = path.match(/^\/applications\/(.+)$/);
  if (application) return applicationPage(decodeURIComponent(application[1]));
  if (path === '/applications') return applicationsPage();
  if (path === '/inbox') return inboxPage();
  return homePage();
}

document.addEventListener('DOMContentLoaded', boot);
