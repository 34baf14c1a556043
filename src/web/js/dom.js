// @ts-check
// Building the page without innerHTML: text from the API is always set as text, so nothing a
// complainant typed can become markup. The one exception is `snippet`, whose HTML the server
// escapes and marks with <em> only.

/**
 * An element with attributes (`class`, `for`, `on:click` listeners, booleans as presence) and
 * children (strings become text).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on:')) e.addEventListener(k.slice(3), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  append(e, ...children);
  return e;
}

/** Appends children, strings as text. */
export function append(/** @type {Node} */ parent, /** @type {any[]} */ ...children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Removes every child. */
export function clear(/** @type {Node} */ node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** The element with this id (the page's own markup has it). */
export function byId(/** @type {string} */ id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e;
}

/**
 * A search snippet from the server: its text is HTML-escaped there and only <em> marks the
 * hits. It is parsed in an inert template and only text and <em> are copied.
 */
export function snippet(/** @type {string} */ html) {
  const t = document.createElement('template');
  t.innerHTML = html;
  const out = document.createDocumentFragment();
  for (const n of Array.from(t.content.childNodes)) {
    const text = n.textContent ?? '';
    out.appendChild(n.nodeName === 'EM' ? el('mark', {}, text) : document.createTextNode(text));
  }
  return out;
}

/** Shows a message in the page's alert region (role=alert), or clears it. */
export function say(/** @type {string} */ text, kind = 'error') {
  const m = document.getElementById('message');
  if (!m) return;
  m.textContent = text;
  m.dataset.kind = kind;
}
