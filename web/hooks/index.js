// The lifecycle hooks domain (seed 004): pick a deployment intent group (DIG), then its page —
// the TAC intents, the lifecycle actions run on it with the hooks each fired, their workflows and
// outcomes, and buttons running instantiate / update / terminate. What the shell (../app.js)
// needs to show it.

import { digPage, pickPage } from './page.js';

export default {
  nav: [{ key: 'hooks', href: '/hooks', label: 'Hooks' }],
  routes: [
    { path: /^\/hooks$/, nav: 'hooks', render: pickPage },
    { path: /^\/hooks\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/, nav: 'hooks', render: digPage },
  ],
  inbox: [],
};
