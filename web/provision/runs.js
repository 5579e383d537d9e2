// The home page: seed 001's scenarios to run, and the history of provisioning runs.

import { api, temporalLink } from '../shared/http.js';
import { fmtTime, h, notice, replace, tableWrap } from '../shared/dom.js';
import { renderScenarios } from './scenarios.js';
import { statusBadge } from './run.js';

const STATUSES = ['awaiting_approval', 'applying', 'applied', 'waiting_for_destroy', 'destroyed', 'rejected', 'policy_hard_failed', 'approval_expired'];

export async function homePage(main) {
  document.title = 'Runs · Ordo';
  const scenariosBox = h('section', { 'aria-labelledby': 'scenarios-title' }, h('h2', { id: 'scenarios-title' }, 'Run a scenario'), h('p', { class: 'muted' }, 'Loading scenarios…'));
  const historyBox = h('section', { 'aria-labelledby': 'history-title' });
  replace(main, h('h1', {}, 'Provisioning runs'), scenariosBox, historyBox);
  try {
    const scenarios = await api('GET', '/api/scenarios');
    renderScenarios(scenariosBox, scenarios);
    renderHistory(historyBox, scenarios);
  } catch (e) {
    replace(scenariosBox, notice(`Could not load the scenarios: ${e.message}`, 'error'));
  }
}

function renderHistory(box, scenarios) {
  const list = h('div', { 'aria-live': 'polite' });
  const scenarioSelect = h('select', { id: 'filter-scenario', name: 'scenario' }, h('option', { value: '' }, 'Any scenario'), scenarios.map((s) => h('option', { value: s.key }, s.title)));
  const statusSelect = h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s }, s.replaceAll('_', ' '))));
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
          h('td', {}, r.provision_status ? statusBadge(r.provision_status.replaceAll('_', ' ')) : '–'),
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
