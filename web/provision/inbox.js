// The inbox's section of plans waiting for a decision (the shell gives it its title and place).

import { api } from '../shared/http.js';
import { driverLabel, fmtTime, h, notice, replace } from '../shared/dom.js';

export async function renderPlanInbox(box) {
  try {
    const items = await api('GET', '/api/inbox');
    if (items.length === 0) return replace(box, h('p', { class: 'empty' }, 'No plan waits for a decision.'));
    replace(box, items.map(({ run, can_decide: canDecide }) => {
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
    replace(box, notice(`Could not load the plans: ${e.message}`, 'error'));
  }
}
