// The inbox's section of application requests waiting for the signed-in user's authorization
// (the shell gives it its title and place).

import { api } from '../shared/http.js';
import { h, notice, replace } from '../shared/dom.js';
import { authorizationForm } from './authorize.js';
import { requestFacts } from './view.js';

export async function renderAuthorizations(box) {
  let items;
  try {
    items = await api('GET', '/api/authorizations');
  } catch (e) {
    return replace(box, notice(`Could not load the pending authorizations: ${e.message}`, 'error'));
  }
  if (items.length === 0) return replace(box, h('p', { class: 'empty' }, 'No application request waits for your authorization.'));
  replace(box, items.map(({ application: view, can_decide: canDecide }, index) => {
    const s = view.state;
    const r = s.Request;
    const link = h('a', { href: `/applications/${encodeURIComponent(view.workflow_id)}` }, r ? r.applicationName : view.workflow_id);
    const article = h('article', { class: 'card inbox-item', 'data-application': view.workflow_id },
      h('h3', {}, link, ' ', h('span', { class: 'run-id' }, view.workflow_id)));
    if (!r) {
      article.append(notice('No worker answered: the request\'s details are unknown for now.', 'warn'));
      return article;
    }
    article.append(requestFacts(s));
    if (canDecide) {
      const form = authorizationForm(view, `auth-${index}`, (approved) => {
        form.replaceWith(h('p', { class: `notice ${approved ? 'ok' : 'bad'}`, 'data-testid': 'authorization-sent' },
          approved ? 'Approved: provisioning starts. ' : 'Rejected. ', h('a', { href: link.getAttribute('href') }, 'Follow the request')));
      });
      article.append(form);
    } else {
      article.append(h('p', { class: 'muted' }, 'You cannot decide this one.'));
    }
    return article;
  }));
}
