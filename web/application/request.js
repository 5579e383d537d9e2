// One application request's page (seed 000), polled while it runs: the request, the
// authorization (authorize.js), what was provisioned and destroyed, and withdraw / decommission.

import { api, temporalLink } from '../shared/http.js';
import { driverLabel, fmtTime, h, notice, outputValue, replace, tableWrap } from '../shared/dom.js';
import { follow } from '../shared/live.js';
import { authorizationForm } from './authorize.js';
import { requestFacts, statusBadge, statusText } from './view.js';

export function requestPage(main, id) {
  document.title = `${id} · Ordo`;
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
  replace(main, h('p', {}, h('a', { href: '/applications' }, '← All applications')), parts.head, parts.notices, parts.details,
    parts.authorization, parts.decision, parts.resources, parts.destroyed, parts.actions, parts.live);
  const page = { id, parts, form: null, refresh: null };
  page.refresh = follow({
    url: `/api/applications/${encodeURIComponent(id)}`,
    status: parts.live,
    ended: 'The request has ended.',
    render: (view) => renderRequest(page, view),
    missing: (e) => {
      replace(parts.head, h('h1', {}, 'Application not found'));
      replace(parts.live, notice(e.message, 'error'));
    },
  });
}

function renderRequest(page, view) {
  const { parts } = page;
  const s = view.state;
  const r = s.Request;
  const running = view.execution_status === 'Running';
  replace(parts.head,
    h('h1', {}, r ? r.applicationName : 'Application', ' ', h('span', { class: 'run-id' }, view.workflow_id)),
    h('p', { class: 'meta' }, statusBadge(s.Status), ' ', h('span', { 'data-testid': 'status' }, statusText(s.Status)), ' · ', view.execution_status, ' · ',
      h('a', { href: temporalLink(view.workflow_id), target: '_blank', rel: 'noopener' }, 'Open in Temporal Web UI')));
  replace(parts.notices,
    view.stale ? notice('No worker answered: this is the last known status, and it may lag. Start a worker (ordo worker) to resume.', 'warn') : null,
    s.Error ? notice(s.Error, 'error') : null);

  replace(parts.details, h('h2', { id: 'details-title' }, 'Request'),
    r ? requestFacts(s) : h('p', { class: 'empty' }, view.stale ? 'The request\'s details need a worker to answer.' : 'Starting…'));

  const awaiting = s.Status === 'awaiting_authorization' && running && !view.stale && r;
  parts.authorization.hidden = !awaiting;
  if (!awaiting) {
    page.form = null;
    replace(parts.authorization);
  } else if (!page.form) {
    // Built once while a decision is awaited, so refreshes keep what the user typed.
    page.form = authorizationForm(view, 'authorize', (approved) => {
      replace(parts.live, `${approved ? 'Approved' : 'Rejected'}; waiting for the request to continue…`);
      page.refresh();
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

  renderActions(page, view);
}

function renderFoundation(box, res) {
  if (!res) return replace(box);
  const names = Object.keys(res.outputs || {});
  replace(box, h('h2', { id: 'resources-title' }, 'Provisioned'),
    h('p', {}, 'IaC step run by the ', h('strong', { 'data-testid': 'iac-worker' }, `${res.worker} worker`), ` in ${res.region} at ${fmtTime(res.completionDateTime)} `, driverLabel(res.driver)),
    h('ul', {}, res.summary.map((line) => h('li', {}, line))),
    names.length ? tableWrap(h('table', { class: 'outputs', 'data-testid': 'app-outputs' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Output'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', {}, names.map((name) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, outputValue(res.outputs[name]))))))) : h('p', { class: 'empty' }, 'No outputs.'));
}

function renderActions(page, view) {
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
      page.refresh();
    } catch (e) {
      out.textContent = e.message;
      button.disabled = false;
    }
  } }, holdsResources ? 'Decommission' : 'Withdraw request');
  replace(page.parts.actions, h('h2', { class: 'sr-only' }, 'Actions'), h('div', { class: 'buttons' }, button), out);
}
