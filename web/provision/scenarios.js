// Seed 001's scenarios, each with its own start form (the ephemeral one asks for a TTL).

import { api } from '../shared/http.js';
import { driverLabel, h, replace, tableWrap } from '../shared/dom.js';

/** Fills `box` with the scenario table; starting one opens its run page. */
export function renderScenarios(box, scenarios) {
  const rows = scenarios.map((s) => h('tr', { 'data-scenario': s.key },
    h('th', { scope: 'row' }, s.title, h('br'), h('code', { class: 'muted' }, s.key)),
    h('td', {}, s.description),
    h('td', {}, h('code', {}, s.directory), ' ', driverLabel('sim')),
    h('td', {}, startForm(s))));
  replace(box, h('h2', { id: 'scenarios-title' }, 'Run a scenario'),
    h('p', { class: 'muted' }, 'Seed 001\'s scenarios, run with the sim driver (a simulated cloud).'),
    tableWrap(h('table', { class: 'scenarios' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Scenario'), h('th', { scope: 'col' }, 'What happens'), h('th', { scope: 'col' }, 'Directory'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Run')))), h('tbody', {}, rows))));
}

function startForm(s) {
  const ttlId = `ttl-${s.key}`;
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
  return form;
}
