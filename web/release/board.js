// Releases: the list (newest first) with a form starting a catalogue release, and one release's
// board, following the release's server-sent events until it ends: the matrix of deploys × environments with
// each cell's state, what waits for approval (release, deploys, the gate before PROD) with the
// controls to decide, pause / resume / abort, the approvals with who and why, and the notes.

import { api } from '../shared/http.js';
import { badge, fmtTime, h, notice, replace, tableWrap } from '../shared/dom.js';
import { follow } from '../shared/live.js';

const CELL_CLASS = {
  done: 'ok', rolled_back: 'bad', failed: 'bad', skipped: 'muted', waiting_for_approval: 'wait',
  pending: 'muted', building: 'busy', deploying: 'busy', verifying: 'busy',
};

function statusClass(status) {
  if (status === 'succeeded') return 'ok';
  if (['rejected', 'halted', 'rolled_back', 'aborted'].includes(status)) return 'bad';
  if ((status || '').startsWith('waiting') || status === 'paused') return 'wait';
  return 'busy';
}

const text = (s) => (s || 'starting').replaceAll('_', ' ');

export async function releasesPage(main) {
  document.title = 'Releases · Ordo';
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const form = await startForm();
  replace(main, h('h1', {}, 'Releases'), form, h('h2', {}, 'Recent releases'), list);
  try {
    const rows = await api('GET', '/api/releases?limit=50');
    if (!rows.length) return replace(list, h('p', { class: 'muted' }, 'No releases yet.'));
    replace(list, tableWrap(h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Release'), h('th', {}, 'Execution'), h('th', {}, 'Environment'), h('th', {}, 'Started'))),
      h('tbody', {}, rows.map((r) => {
        const key = r.release_key || r.workflow_id;
        return h('tr', {},
          h('td', {}, h('a', { href: `/releases/${encodeURIComponent(key)}` }, key)),
          h('td', {}, r.execution_status), h('td', {}, r.environment || '–'), h('td', {}, fmtTime(r.started_at)));
      })))));
  } catch (e) {
    replace(list, notice(e.message, 'error'));
  }
}

async function startForm() {
  let catalogue = { releases: [] };
  try { catalogue = await api('GET', '/api/releases/catalogue'); } catch { /* the form still shows */ }
  const key = h('select', { id: 'release-key', name: 'release_key' },
    catalogue.releases.map((r) => h('option', { value: r.release_key }, `${r.release_key} (${r.deploys.length} deploys)`)));
  const unapproved = h('input', { type: 'checkbox', id: 'release-unapproved' });
  const gate = h('input', { type: 'checkbox', id: 'release-gate' });
  const out = h('div', {});
  const submit = async (event) => {
    event.preventDefault();
    const body = { release_key: key.value, approved: !unapproved.checked };
    if (gate.checked) body.promotion_gate = { approval: true };
    try {
      const started = await api('POST', '/api/releases', body);
      location.assign(`/releases/${encodeURIComponent(started.release_key)}`);
    } catch (e) {
      replace(out, notice(e.field ? `${e.field}: ${e.message}` : e.message, 'error'));
    }
  };
  return h('form', { class: 'card', onsubmit: submit },
    h('h2', {}, 'Start a catalogue release'),
    h('label', { for: 'release-key' }, 'Release '), key, ' ',
    h('label', {}, unapproved, ' needs approval'), ' ',
    h('label', {}, gate, ' gate before PROD'), ' ',
    h('button', { type: 'submit' }, 'Start'), out);
}

export async function boardPage(main, key) {
  document.title = `${key} · Releases · Ordo`;
  const board = h('div', { 'data-testid': 'release-board' }, h('p', { class: 'muted' }, 'Loading…'));
  const reason = h('input', { id: 'release-reason', placeholder: 'Why (required)', size: 40 });
  const message = h('div', { role: 'status' });
  const live = h('p', { class: 'muted live', role: 'status' }, 'Loading…');
  replace(main, h('h1', {}, key), board, h('div', { class: 'card' }, h('label', { for: 'release-reason' }, 'Reason '), reason, message), live);
  const url = `/api/releases/${encodeURIComponent(key)}`;
  let refresh = null;
  const act = async (path, body) => {
    try {
      await api('POST', `${url}/${path}`, { ...body, reason: reason.value });
      replace(message, notice('Done.', 'ok'));
      refresh();
    } catch (e) {
      replace(message, notice(e.field ? `${e.field}: ${e.message}` : e.message, 'error'));
    }
  };
  refresh = follow({
    url,
    events: { url: `${url}/events`, name: 'release' },
    status: live,
    ended: 'The release has ended.',
    render: (view) => drawBoard(board, view, act),
    missing: (e) => replace(board, notice(e.message, 'error')),
  });
}

function drawBoard(board, view, act) {
  const s = view.state;
  const envs = s.environments || [];
  const cell = (deploy, env) => (s.cells || []).find((c) => c.deploy_key === deploy && c.env === env);
  const controls = [];
  for (const target of s.pending || []) {
    if (target === 'gate') {
      controls.push(h('button', { onclick: () => act('gate', { approved: true }) }, 'Open the gate to PROD'),
        h('button', { onclick: () => act('gate', { approved: false }) }, 'Stop before PROD'));
    } else {
      controls.push(h('button', { onclick: () => act('approvals', { target }) }, `Approve ${target}`),
        h('button', { onclick: () => act('approvals', { target, approved: false }) }, `Refuse ${target}`));
    }
  }
  if (!s.result) {
    controls.push(s.paused ? h('button', { onclick: () => act('resume', {}) }, 'Resume') : h('button', { onclick: () => act('pause', {}) }, 'Pause'),
      h('button', { class: 'danger', onclick: () => act('abort', {}) }, 'Abort'));
  }
  replace(board,
    h('p', {}, badge(text(s.status), statusClass(s.status)), s.current_env ? ` in ${s.current_env}` : '', s.paused ? ' (paused)' : '',
      view.stale ? ' · no worker answered: this may be stale' : ''),
    s.pending && s.pending.length ? h('p', {}, `Waiting for: ${s.pending.join(', ')}`, s.approval_deadline ? ` (until ${fmtTime(s.approval_deadline)})` : '') : null,
    tableWrap(h('table', { class: 'matrix' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Deploy'), envs.map((e) => h('th', {}, e)))),
      h('tbody', {}, (s.deploys || []).map((d) => h('tr', {},
        h('th', {}, d.deploy_key, h('br', {}), h('small', { class: 'muted' }, `${d.container_id}:${d.container_version}`)),
        envs.map((e) => {
          const c = cell(d.deploy_key, e);
          return h('td', { title: (c && c.detail) || '' }, c ? badge(text(c.state), CELL_CLASS[c.state] || 'busy') : '');
        })))))),
    controls.length ? h('p', { class: 'controls' }, controls) : null,
    s.approvals && s.approvals.length ? h('ul', {}, s.approvals.map((a) =>
      h('li', {}, `${a.target} ${a.approved ? 'approved' : 'refused'} by ${a.approver} at ${fmtTime(a.at)}: ${a.reason}`))) : null,
    (s.notes || []).map((n) => h('p', { class: 'muted' }, n)),
    s.result ? h('p', {}, h('strong', {}, s.result)) : null);
}
