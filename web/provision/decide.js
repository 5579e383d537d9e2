// Deciding a run's plan: the approval form (sent as a validated update or as a signal) and the
// decision once made.

import { api } from '../shared/http.js';
import { field, fmtTime, h, replace, showFieldError } from '../shared/dom.js';
import { me } from '../shared/session.js';

/** Whether the signed-in user may decide a run listing `approvers` (the server checks again). */
function mayDecide(approvers) {
  const user = me();
  if (!user) return false;
  // Admins too: the workflow checks the run's list, and a role claim grants nothing there.
  if (user.role !== 'approver' && user.role !== 'admin') return false;
  return approvers.length === 0 || approvers.includes(user.name);
}

/** Shows the approval form while the run waits for a decision; refreshes keep what is typed. */
export function renderApproval(page, view) {
  const s = view.state;
  const box = page.parts.approval;
  const pending = s.approval_pending && view.execution_status === 'Running' && !view.stale;
  box.hidden = !pending;
  if (!pending) { page.approvalForm = null; replace(box); return; }
  const user = me();
  const allowed = mayDecide(s.approvers);
  const approvals = s.approvals || [];
  const needed = s.approvals_required > 1
    ? ` Approvals: ${approvals.length} of ${s.approvals_required}${approvals.length ? ` (${approvals.map((a) => a.approver).join(', ')})` : ''}.`
    : '';
  const who = (s.approvers.length ? `Approvers: ${s.approvers.join(', ')}.` : 'Any approver may decide.') + needed;
  const plan = s.plan_hash || '';
  const kept = page.approvalForm;
  if (kept && kept.dataset.allowed === String(allowed) && kept.dataset.planHash === plan) {
    page.approvalForm.querySelector('.deadline').textContent = `${who} Decide before ${fmtTime(s.approval_deadline)}.`;
    return; // keep what the user is typing
  }
  const signal = s.scenario === 'human_in_the_loop_signal';
  // The decision names the plan this form was shown with; if a re-plan replaced it, the form is
  // rebuilt and says so, and a click on the old one is refused by the run.
  const form = h('form', { class: 'decide', 'data-allowed': String(allowed), 'data-plan-hash': plan, novalidate: true },
    kept && kept.dataset.planHash !== plan
      ? h('p', { class: 'notice warn', 'data-testid': 'plan-changed' }, 'The plan changed while you were reviewing it: review it again.')
      : null,
    h('p', { class: 'deadline' }, `${who} Decide before ${fmtTime(s.approval_deadline)}.`),
    h('p', { class: 'plan-hash' }, 'Deciding on plan ', h('code', {}, plan.slice(0, 12))),
    field('Reason', 'reason', h('textarea', { id: 'reason', name: 'reason', rows: 3, maxlength: 2000, disabled: !allowed }),
      signal ? 'Seed 001\'s signal: the reason is optional.' : 'Required: recorded in the run\'s history with your name.'),
    h('fieldset', { class: 'via' }, h('legend', {}, 'Send as'),
      h('label', {}, h('input', { type: 'radio', name: 'via', value: 'update', checked: !signal, disabled: !allowed }), ' update (validated)'),
      h('label', {}, h('input', { type: 'radio', name: 'via', value: 'signal', checked: signal, disabled: !allowed }), ' signal')),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', name: 'decision', value: 'approve', class: 'primary', disabled: !allowed }, 'Approve'),
      h('button', { type: 'submit', name: 'decision', value: 'reject', class: 'danger', disabled: !allowed }, 'Reject')),
    allowed ? null : h('p', { class: 'notice warn', 'data-testid': 'cannot-decide' }, user && user.role === 'requester'
      ? `You are signed in as ${user.name}, a requester: only approvers can approve or reject plans.`
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
      await api('POST', `/api/runs/${encodeURIComponent(page.id)}/${approve ? 'approve' : 'reject'}`, { reason, via, plan_hash: form.dataset.planHash });
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

/** Who decided, how and why, once someone has. */
export function renderDecision(box, s) {
  const a = s.approval;
  if (!a) return replace(box);
  replace(box, h('p', { class: `notice ${a.is_approved ? 'ok' : 'bad'}`, 'data-testid': 'decision' },
    `${a.is_approved ? 'Approved' : 'Rejected'} by ${a.approver || 'an anonymous caller'} via ${a.via} at ${fmtTime(a.decided_at)}`,
    a.reason ? `: “${a.reason}”` : '.'));
}
