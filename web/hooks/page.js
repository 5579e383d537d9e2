// Lifecycle hooks: a form naming a DIG (project, composite app, version, deployment intent group),
// and the DIG's page: its TAC intents (hook type, blocking, the workflow each starts), buttons
// running a lifecycle action, and every lifecycle action run on it, newest first, with the hooks
// it fired in order — intent, hook type, workflow id (linked to Temporal's UI) and outcome. The
// page redraws every second while an action runs (and for a few seconds after one is started,
// until visibility lists it).

import { api, temporalLink } from '../shared/http.js';
import { badge, field, h, notice, replace, tableWrap } from '../shared/dom.js';

const SEGMENTS = [
  ['project', 'Project', 'proj1'], ['compositeApp', 'Composite app', 'app1'],
  ['compositeAppVersion', 'Version', 'v1'], ['dig', 'Deployment intent group', 'dig1'],
];

export function pickPage(main) {
  document.title = 'Hooks · Ordo';
  const inputs = SEGMENTS.map(([id, , value]) => h('input', { id: `hooks-${id}`, value, required: true, size: 20 }));
  const go = (event) => {
    event.preventDefault();
    location.assign(`/hooks/${inputs.map((i) => encodeURIComponent(i.value.trim())).join('/')}`);
  };
  replace(main, h('h1', {}, 'Lifecycle hooks'),
    h('p', {}, 'A deployment intent group keeps TAC intents: workflows its instantiate, update and terminate ',
      'actions start before (pre) and after (post) the action. Intents are managed through the API ',
      '(/v2/projects/…/temporal-action-controller) or `ordo hook intents`.'),
    h('form', { class: 'card', onsubmit: go }, h('h2', {}, 'Open a deployment intent group'),
      SEGMENTS.map(([id, label], n) => field(label, `hooks-${id}`, inputs[n])),
      h('button', { type: 'submit' }, 'Open')));
}

const OUTCOME_CLASS = { started: 'ok', completed: 'ok', failed: 'bad', timedOut: 'bad', notStarted: 'bad' };
const OUTCOME_TEXT = { started: 'started', completed: 'completed', failed: 'failed', timedOut: 'timed out', notStarted: 'not started' };

function actionBadge(history, status) {
  const outcome = history && history.outcome;
  if (outcome) return badge(outcome.status, outcome.status === 'succeeded' ? 'ok' : 'bad');
  return badge(status === 'Running' ? (history ? history.phase : 'running') : status.toLowerCase(), status === 'Running' ? 'busy' : 'bad');
}

function hooksTable(hooks) {
  if (!hooks.length) return h('p', { class: 'muted' }, 'No hook fired.');
  return tableWrap(h('table', { class: 'hooks-fired' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Intent'), h('th', {}, 'Hook'), h('th', {}, 'Blocking'), h('th', {}, 'Workflow'), h('th', {}, 'Outcome'))),
    h('tbody', {}, hooks.map((k) => h('tr', { 'data-intent': k.intent },
      h('td', {}, k.intent), h('td', {}, k.hookType), h('td', {}, k.blocking ? 'yes' : 'no'),
      h('td', {}, k.workflowId ? h('a', { href: temporalLink(k.workflowId), target: '_blank', rel: 'noopener' }, k.workflowId) : '–'),
      h('td', {}, badge(OUTCOME_TEXT[k.outcome.status] || k.outcome.status, OUTCOME_CLASS[k.outcome.status] || 'busy'),
        k.outcome.reason ? ` ${k.outcome.reason}` : '',
        k.outcome.timeoutMs ? ` after ${k.outcome.timeoutMs} ms` : ''))))));
}

export async function digPage(main, project, app, version, dig) {
  const key = `${project}/${app}/${version}/${dig}`;
  const [p, a, v, d] = [project, app, version, dig].map(encodeURIComponent);
  const path = `/v2/projects/${p}/composite-apps/${a}/${v}/deployment-intent-groups/${d}`;
  document.title = `${dig} · Hooks · Ordo`;
  const intents = h('div', { 'data-testid': 'hook-intents' }, h('p', { class: 'muted' }, 'Loading…'));
  const actions = h('div', { 'data-testid': 'lifecycle-actions' }, h('p', { class: 'muted' }, 'Loading…'));
  const message = h('div', { role: 'status' });
  let until = 0;
  let timer = null;
  const run = async (action) => {
    try {
      const started = await api('POST', `${path}/${action}`);
      replace(message, notice(`${action} started (app context ${started.appContextId}).`, 'ok'));
      until = Date.now() + 10_000;
      schedule();
    } catch (e) {
      replace(message, notice(e.message, 'error'));
    }
  };
  replace(main, h('h1', {}, `Hooks of ${key}`), h('p', {}, h('a', { href: '/hooks' }, 'Another deployment intent group')),
    h('h2', {}, 'TAC intents'), intents,
    h('p', { class: 'controls' }, ['instantiate', 'update', 'terminate'].map((a) =>
      h('button', { onclick: () => run(a) }, a[0].toUpperCase() + a.slice(1)))), message,
    h('h2', {}, 'Lifecycle actions'), actions);

  try {
    const list = await api('GET', `${path}/temporal-action-controller`);
    replace(intents, list.length ? tableWrap(h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Intent'), h('th', {}, 'Hook'), h('th', {}, 'Blocking'), h('th', {}, 'Workflow type on task queue'))),
      h('tbody', {}, list.map((i) => {
        const t = i.spec.temporal || {};
        const opts = t.workflowStartOptions || {};
        const queue = Object.entries(opts).find(([k]) => k.toLowerCase() === 'taskqueue');
        return h('tr', {}, h('td', {}, i.metadata.name), h('td', {}, i.spec.hookType), h('td', {}, i.spec.hookBlocking ? 'yes' : 'no'),
          h('td', {}, `${t.workflowType || (queue && queue[1]) || '?'} on ${(queue && queue[1]) || '?'}`));
      })))) : h('p', { class: 'muted' }, 'No intents in this deployment intent group.'));
  } catch (e) {
    replace(intents, notice(e.message, 'error'));
  }

  const draw = async () => {
    let running = false;
    try {
      const list = await api('GET', `${path}/lifecycle-actions`);
      if (!list.length) {
        replace(actions, h('p', { class: 'muted' }, 'No lifecycle action yet.'));
      } else {
        const items = await Promise.all(list.map(async (a) => {
          const [action, context] = a.workflowId.split('/').slice(-2);
          let history = null;
          try { history = await api('GET', `${path}/lifecycle-actions/${action}/${context}`); } catch { /* not readable yet */ }
          running = running || a.status === 'Running';
          return h('section', { class: 'card', 'data-action': action, 'data-context': context },
            h('h3', {}, `${action} · app context ${context} `, actionBadge(history, a.status)),
            history && history.outcome && history.outcome.reason ? h('p', { class: 'notice bad' }, history.outcome.reason) : null,
            history ? hooksTable(history.hooks) : h('p', { class: 'muted' }, 'History not readable yet.'));
        }));
        replace(actions, items);
      }
    } catch (e) {
      replace(actions, notice(e.message, 'error'));
    }
    if (!running && Date.now() > until) {
      clearInterval(timer);
      timer = null;
    }
  };
  const schedule = () => {
    if (!timer) timer = setInterval(draw, 1000);
    draw();
  };
  schedule();
}
