// The release domain (seed 003): the list of releases with a start form, and a release's board —
// deploys × environments, live, with the approval, gate, pause/resume and abort controls. What
// the shell (../app.js) needs to show it.

import { boardPage, releasesPage } from './board.js';

export default {
  nav: [{ key: 'releases', href: '/releases', label: 'Releases' }],
  routes: [
    { path: /^\/releases$/, nav: 'releases', render: releasesPage },
    { path: /^\/releases\/(.+)$/, nav: 'releases', render: boardPage },
  ],
  inbox: [],
};
