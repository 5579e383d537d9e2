// The provisioning domain (seed 001): the runs list with its scenarios to start, a run's page,
// and the plans waiting for a decision in the inbox. What the shell (../app.js) needs to show it.

import { renderPlanInbox } from './inbox.js';
import { runPage } from './run.js';
import { homePage } from './runs.js';

export default {
  nav: [{ key: 'home', href: '/', label: 'Runs' }],
  routes: [
    { path: /^\/$/, nav: 'home', render: homePage },
    { path: /^\/runs\/(.+)$/, render: runPage },
  ],
  inbox: [{ id: 'plans-title', title: 'Plans waiting for a decision', order: 2, render: renderPlanInbox }],
};
