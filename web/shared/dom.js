// Building the pages: a tiny element helper and the few widgets more than one module shows.
// Text from the server is only ever inserted as text (never as HTML).

/** Creates an element: h('a', {href: '/'}, 'text', child, ...). `on*` attributes become listeners. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces `el`'s children, skipping the null/false left by conditionals. */
export function replace(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function notice(text, cls) {
  return h('p', { class: `notice ${cls || ''}`, role: cls === 'error' ? 'alert' : 'status' }, text);
}

/** A status pill; `cls` is ok, bad, wait or busy (each domain maps its own statuses). */
export function badge(text, cls) {
  return h('span', { class: `badge ${cls}` }, text || 'starting');
}

export function driverLabel(driver) {
  return driver === 'sim' ? h('span', { class: 'badge sim', title: 'The sim driver simulates a cloud: nothing real is created' }, 'simulation') : h('span', { class: 'badge' }, driver);
}

export function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

/** Lets a wide table scroll on its own instead of the page. */
export function tableWrap(table) {
  return h('div', { class: 'table-wrap' }, table);
}

/** An IaC output's value, masked when it is sensitive: its value never reaches the page. */
export function outputValue(out) {
  return out.sensitive ? h('span', { class: 'masked', title: 'Sensitive: never shown' }, '•••••• (sensitive)')
    : h('code', {}, typeof out.value === 'string' ? out.value : JSON.stringify(out.value));
}

/** A labelled form field with an optional hint and a slot for the server's refusal. */
export function field(label, id, input, hint) {
  if (hint && !input.hasAttribute('aria-describedby')) input.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', { class: 'muted', id: `${id}-hint` }, hint) : null,
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' }));
}

/** Shows (or, with no message, clears) the error of a `field`, marking its input invalid. */
export function showFieldError(form, fieldId, message) {
  const out = form.querySelector(`#${fieldId}-error`);
  if (out) out.textContent = message || '';
  const input = form.querySelector(`#${fieldId}`);
  if (input) {
    const hint = form.querySelector(`#${fieldId}-hint`) ? ` ${fieldId}-hint` : '';
    if (message) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', `${fieldId}-error${hint}`); } else input.removeAttribute('aria-invalid');
  }
}

/** A datalist for inputs to suggest from (created once per page); returns its id. */
export function datalist(id, values) {
  if (!document.getElementById(id)) document.body.append(h('datalist', { id }, values.map((v) => h('option', { value: v }))));
  return id;
}
