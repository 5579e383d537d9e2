// Talking to Ordo's JSON API (/api/...): one `api` call that turns every failure into an
// `ApiError` carrying the server's `{error, field?, reason}`, and sends a signed-out user to the
// sign-in page.

/** A refusal or failure of the API; `field` names the input the server refused, if any. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.reason) || `HTTP ${status}`);
    this.status = status;
    this.kind = body && body.error;
    this.field = body && body.field;
  }
}

/** Calls the API with a JSON body (when given); resolves to the JSON answer, or throws an ApiError. */
export async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { error: 'network', reason: 'The Ordo server cannot be reached. Is it running?' });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: 'bad_response', reason: text.slice(0, 200) }; }
  }
  if (response.status === 401 && location.pathname !== '/signin') {
    location.assign('/signin?next=' + encodeURIComponent(location.pathname + location.search));
    throw new ApiError(401, data);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The server's settings the pages link with, from /api/info (defaults until `loadInfo`). */
let info = { temporal_ui_url: 'http://localhost:8233', namespace: 'default', demo_users: false };

/** Reads /api/info once at start; on failure the defaults stay, so links still point somewhere. */
export async function loadInfo() {
  try { info = await api('GET', '/api/info'); } catch { /* keep the defaults */ }
}

/** Whether the server runs with the demo users (the sign-in page names them). */
export function demoUsers() {
  return Boolean(info.demo_users);
}

/** The Temporal Web UI's page of workflow `id`. */
export function temporalLink(id) {
  return `${info.temporal_ui_url}/namespaces/${encodeURIComponent(info.namespace)}/workflows/${encodeURIComponent(id)}`;
}
