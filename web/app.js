// Ordo's web UI shell: plain JavaScript modules, no build step. Every page path serves
// index.html, which loads this module; it builds the navigation from the domains below, then
// renders the page the path names with the domain that owns it. Runs of seed 001 live in
// provision/, seed 000's application requests in application/, seed 003's releases in release/,
// seed 004's lifecycle hooks in hooks/, seed 002's pizza orders in orders/; shared/ holds what they share.
//
// A domain is a folder whose index.js exports by default:
//   nav:    [{key, href, label}]                  its links in the header, in order;
//   routes: [{path, nav?, render(main, ...ids)}]  `path` a RegExp on location.pathname whose
//                                                 groups (URL-decoded) follow `main`; `nav` the
//                                                 key of the link to mark as current;
//   inbox:  [{id, title, order, render(box)}]     its sections of the inbox, lowest `order` first.
// The server serves only the files and page paths it lists (crates/api/src/routes/web.rs): its
// tests fail when a file of web/ is missing there.

import { h, notice, replace } from './shared/dom.js';
import { loadInfo } from './shared/http.js';
import { loadSession, renderWho, signInPage } from './shared/session.js';

/** Ordo's domains, in the order of the navigation. Adding one: its folder, and one line here. */
const DOMAINS = [
  import('./provision/index.js'),
  import('./application/index.js'),
  import('./release/index.js'),
  import('./hooks/index.js'),
  import('./orders/index.js'),
];

const INBOX = { key: 'inbox', href: '/inbox', label: 'Inbox' };

function renderNav(nav, domains, current) {
  replace(nav, [...domains.flatMap((d) => d.nav), INBOX].map(({ key, href, label }) =>
    h('a', { href, 'data-nav': key, 'aria-current': key === current ? 'page' : null }, label)));
}

/** The domain page `path` names, as {nav, show(main)}; null when no domain has it. */
function route(domains, path) {
  for (const r of domains.flatMap((d) => d.routes)) {
    const match = path.match(r.path);
    if (match) return { nav: r.nav, show: (main) => r.render(main, ...match.slice(1).map(decodeURIComponent)) };
  }
  return null;
}

/** The inbox gathers every domain's sections of things waiting for the signed-in user. */
async function inboxPage(main, domains) {
  document.title = 'Inbox · Ordo';
  const sections = domains.flatMap((d) => d.inbox || []).sort((a, b) => a.order - b.order).map((s) => {
    const box = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    return { s, box, section: h('section', { 'aria-labelledby': s.id }, h('h2', { id: s.id }, s.title), box) };
  });
  replace(main, h('h1', {}, 'Inbox'), sections.map(({ section }) => section));
  await Promise.all(sections.map(({ s, box }) => s.render(box)));
}

function notFoundPage(main) {
  document.title = 'Not found · Ordo';
  replace(main, h('h1', {}, 'No such page'), h('p', {}, h('a', { href: '/' }, 'Back to all runs')));
}

async function boot() {
  const main = document.getElementById('main');
  const who = document.getElementById('who');
  const nav = document.querySelector('header nav');
  let domains;
  try {
    [domains] = await Promise.all([Promise.all(DOMAINS).then((modules) => modules.map((m) => m.default)), loadInfo()]);
  } catch (e) {
    replace(main, notice(`Ordo's web UI could not load: ${e.message}`, 'error'));
    throw e;
  }
  const path = location.pathname;
  const page = path === '/inbox' ? { nav: INBOX.key, show: (m) => inboxPage(m, domains) } : route(domains, path);
  renderNav(nav, domains, page && page.nav);
  if (path === '/signin') {
    renderWho(who);
    return signInPage(main);
  }
  try {
    await loadSession();
  } catch (e) {
    if (e.status !== 401) replace(main, notice(e.message, 'error')); // a 401 is already on its way to /signin
    return;
  }
  renderWho(who);
  return page ? page.show(main) : notFoundPage(main);
}

boot();
