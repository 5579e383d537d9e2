// The orders domain (seed 002, GopherPizza): the order form, an order's page pushed live, and
// the stats page (live) with the admin's stream and chaos controls. What the shell (../app.js)
// needs to show it.

import { orderPage, ordersPage } from './order.js';
import { statsPage } from './stats.js';

export default {
  nav: [{ key: 'orders', href: '/orders', label: 'Orders' }],
  routes: [
    { path: /^\/orders$/, nav: 'orders', render: ordersPage },
    { path: /^\/orders\/stats$/, nav: 'orders', render: statsPage },
    { path: /^\/orders\/(.+)$/, nav: 'orders', render: orderPage },
  ],
  inbox: [],
};
