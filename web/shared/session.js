// Who is signed in: the sign-in page, sign-out, and the signed-in user the pages ask about
// (buttons a user may not use are shown disabled; the server checks again either way).

import { api, demoUsers } from './http.js';
import { field, h, replace } from './dom.js';

let user = null; // {name, role}

/** The signed-in user, `{name, role}`, or null before `loadSession` (or when signed out). */
export function me() {
  return user;
}

/** Asks the server who is signed in; a 401 sends the browser to the sign-in page (see `api`). */
export async function loadSession() {
  user = await api('GET', '/api/session');
  return user;
}

/** The header's corner: who is signed in and a sign-out button, or a sign-in link. */
export function renderWho(box) {
  if (!user) return replace(box, h('a', { href: '/signin' }, 'Sign in'));
  replace(box, h('span', { 'data-testid': 'whoami' }, `${user.name} (${user.role})`), ' ',
    h('button', { type: 'button', class: 'link', onclick: async () => { await api('DELETE', '/api/session'); location.assign('/signin'); } }, 'Sign out'));
}

/** The sign-in form; on success, back to the page that sent the user here (`?next=`). */
export function signInPage(main) {
  document.title = 'Sign in · Ordo';
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, 'Sign in'),
    field('Name', 'name', h('input', { id: 'name', name: 'name', autocomplete: 'username', required: true, autofocus: true })),
    field('Password', 'password', h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('p', { class: 'form-error', id: 'signin-error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    demoUsers() ? h('p', { class: 'muted' }, 'Demo users: alice (approver), bob (requester), admin (admin). Their passwords are printed by ', h('code', {}, 'ordo up'), '.') : null);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const out = form.querySelector('#signin-error');
    out.textContent = '';
    try {
      user = await api('POST', '/api/session', { name: form.name.value.trim(), password: form.password.value });
      const next = new URLSearchParams(location.search).get('next');
      // Only a path on this site: `next` comes from the URL, so anyone could have written it.
      location.assign(next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (e) {
      out.textContent = e.message;
      form.password.select();
    }
  });
  replace(main, form);
}
