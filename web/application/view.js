// How an application request's state reads, wherever it is shown: its status, its team, the
// facts of the request, and the countdown to the authorization deadline.

import { badge, driverLabel, fmtTime, h } from '../shared/dom.js';

export const STATUSES = ['requested', 'checking_team', 'awaiting_authorization', 'provisioning', 'provisioned', 'rejected',
  'authorization_expired', 'destroying', 'destroyed', 'cancelled', 'failed'];

function statusClass(status) {
  if (['provisioned', 'destroyed'].includes(status)) return 'ok';
  if (['rejected', 'authorization_expired', 'failed', 'cancelled'].includes(status)) return 'bad';
  if (status === 'awaiting_authorization') return 'wait';
  return 'busy';
}

export function statusText(status) {
  return (status || 'starting').replaceAll('_', ' ');
}

export function statusBadge(status) {
  return badge(statusText(status), statusClass(status));
}

export function teamText(s) {
  const t = s.Team;
  if (t) return [t.TeamName || t.TeamID, t.TeamEmail ? ` <${t.TeamEmail}>` : '', t.Subdomain ? ` · subdomain ${t.Subdomain}` : ''].join('');
  return s.Request ? `${s.Request.teamId} (not looked up yet)` : '–';
}

/** What was asked, by whom, who decides and by when: the request page's and the inbox's facts. */
export function requestFacts(s) {
  const r = s.Request;
  const row = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
  return h('dl', { class: 'facts' },
    row('Team', teamText(s)),
    row('Requested by', r.requesterId || '–'),
    row('Authorizer', r.authorizerId),
    s.AuthorizationDeadline ? row('Decide within', countdown(s.AuthorizationDeadline), ` (by ${fmtTime(s.AuthorizationDeadline)})`) : null,
    row('IaC', driverLabel(r.driver), ' ', h('code', {}, r.stack)),
    s.BucketName ? row('Bucket', h('code', {}, s.BucketName)) : null);
}

/** "m:ss" (or "h:mm:ss") until `iso`, never negative. */
function timeLeft(iso) {
  const left = Math.max(0, Math.round((new Date(iso) - Date.now()) / 1000));
  const hours = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = String(left % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

let ticker = null;

/** A countdown to `iso`; one ticker, started with the first, updates every countdown on the page. */
function countdown(iso) {
  ticker ??= setInterval(() => {
    for (const el of document.querySelectorAll('[data-deadline]')) el.textContent = timeLeft(el.dataset.deadline);
  }, 1000);
  return h('strong', { 'data-deadline': iso, 'data-testid': 'deadline-countdown', 'aria-live': 'off' }, timeLeft(iso));
}
