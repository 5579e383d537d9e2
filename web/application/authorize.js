// The authorizer's decision on an application request, on its page and in the inbox.

import { api } from '../shared/http.js';
import { datalist, field, h, showFieldError } from '../shared/dom.js';
import { me } from '../shared/session.js';

const REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-southeast-2'];

/** Whether the signed-in user may authorize a request naming `authorizer` (the server checks again). */
function mayAuthorize(authorizer) {
  const user = me();
  if (!user) return false;
  return user.role === 'admin' || (user.role === 'approver' && user.name === authorizer);
}

/**
 * The authorizer's form: region, profile, an optional reason, Approve / Reject. `key` keeps the
 * ids unique when several forms share a page. The server's refusals show next to their field.
 */
export function authorizationForm(view, key, onSent) {
  const authorizer = view.state.Request ? view.state.Request.authorizerId : '';
  const user = me();
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
    allowed ? null : h('p', { class: 'notice warn', 'data-testid': 'cannot-authorize' }, user && user.role === 'requester'
      ? `You are signed in as ${user.name}, a requester: only ${authorizer}, the named authorizer, or an admin can authorize this request.`
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
