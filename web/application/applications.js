// The applications page (seed 000): the form to request an application, and the requests so far.

import { api, temporalLink } from '../shared/http.js';
import { datalist, field, fmtTime, h, notice, replace, showFieldError, tableWrap } from '../shared/dom.js';
import { STATUSES, statusBadge, statusText } from './view.js';

const DEMO_TEAMS = ['marketing', 'payments', 'platform', 'data'];

/** Maps the API's field names to the request form's inputs. */
const REQUEST_FIELDS = { applicationName: 'app-name', teamId: 'app-team', authorizerId: 'app-authorizer', authorizationTimeoutSeconds: 'app-timeout' };

export function applicationsPage(main) {
  document.title = 'Applications · Ordo';
  const listBox = h('section', { 'aria-labelledby': 'apps-title' });
  replace(main, h('h1', {}, 'Applications'), requestForm(), listBox);
  renderList(listBox);
}

function requestForm() {
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
  return form;
}

function renderList(box) {
  const list = h('div', { 'aria-live': 'polite' });
  const statusSelect = h('select', { id: 'filter-app-status', name: 'status' }, h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s }, statusText(s))));
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
          h('td', {}, r.status ? statusBadge(r.status) : '–'),
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
