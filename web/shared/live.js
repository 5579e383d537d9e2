// Keeping a page on the latest state of one workflow, for every domain: from the server's events
// when it sends them, else by polling. Both the API's views say `execution_status`; a workflow
// that is no longer 'Running' will not change, so following it stops there.

import { api } from './http.js';
import { notice, replace } from './dom.js';

const POLL_MS = 1000;
const RETRY_MS = 2000;

/**
 * Follows the workflow whose JSON view is at `url`, calling `render(view)` with each new view.
 *
 * With `events` (`{url, name}`: a server-sent-event stream whose `name` events carry the same view
 * and whose `end` event says the workflow ended), updates are pushed: a dropped stream is
 * reconnected by the browser, and a refused one (signed out, gone, a proxy in the way) is read
 * once by `url`, which handles those cases, and then opened again. Without `events`, `url` is
 * polled every second while the workflow runs.
 *
 * `status` is the element that says how fresh the page is (`ended` once it will not change);
 * `missing(error)` draws the page when the server has no such workflow. `running(view)` says
 * whether the view may still change (by default: its `execution_status` is 'Running').
 * Returns `refresh()`, which reads now (after an action) and supersedes a read in flight.
 */
export function follow({ url, events, status, ended, render, missing, running = (view) => view.execution_status === 'Running' }) {
  let stream = null;
  let timer = null;
  let reads = 0;
  let stopped = false;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    if (stream) stream.close();
    stream = null;
  };

  const read = async () => {
    clearTimeout(timer);
    // A newer read, or a pushed view, supersedes this one: one polling chain, never an older view.
    const mine = ++reads;
    let view;
    try {
      view = await api('GET', url);
    } catch (e) {
      if (mine !== reads || stopped) return;
      if (e.status === 404) {
        stop();
        missing(e);
        return;
      }
      replace(status, notice(`Could not refresh: ${e.message}. Retrying…`, 'warn'));
      if (!stream) timer = setTimeout(read, RETRY_MS);
      return;
    }
    if (mine !== reads || stopped) return;
    render(view);
    if (!running(view)) {
      stop();
      replace(status, ended);
    } else if (events) {
      if (!stream) open();
    } else {
      replace(status, `Refreshed ${new Date().toLocaleTimeString()}`);
      timer = setTimeout(read, POLL_MS);
    }
  };

  const open = () => {
    const source = new EventSource(events.url);
    stream = source;
    source.addEventListener(events.name, (event) => {
      reads += 1;
      render(JSON.parse(event.data));
      replace(status, 'Live');
    });
    source.addEventListener('end', () => {
      stop();
      replace(status, ended);
    });
    source.onerror = () => {
      if (stream !== source) return;
      replace(status, 'Live updates interrupted; reconnecting…');
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      stream = null;
      timer = setTimeout(read, RETRY_MS);
    };
  };

  window.addEventListener('pagehide', stop);
  if (events) open();
  read();
  return read;
}
