// The application domain (seed 000): requesting an application, following one request, and the
// requests waiting for the signed-in user's authorization in the inbox. What the shell
// (../app.js) needs to show it.

import { applicationsPage } from './applications.js';
import { renderAuthorizations } from './inbox.js';
import { requestPage } from './request.js';

export default {
  nav: [{ key: 'applications', href: '/applications', label: 'Applications' }],
  routes: [
    { path: /^\/applications$/, nav: 'applications', render: applicationsPage },
    { path: /^\/applications\/(.+)$/, nav: 'applications', render: requestPage },
  ],
  inbox: [{ id: 'authorizations-title', title: 'Application requests waiting for your authorization', order: 1, render: renderAuthorizations }],
};
