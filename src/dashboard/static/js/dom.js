// A tiny element builder. Every piece of cluster data enters the page as a text node (never as
// HTML), so an object's name or an event's message can never inject markup.

export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') element.className = value;
    else if (key === 'value') element.value = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A table from column definitions {title, cell(row), class?}; `empty` when there are no rows. */
export function table(columns, rows, { empty = 'Nothing here yet.', rowClass } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', { class: ['num', 'actions'].includes(c.class) ? c.class : undefined }, c.title)))),
      h('tbody', null, rows.map((row) => h('tr', { class: rowClass?.(row) }, columns.map((c) => h('td', { class: c.class }, c.cell(row)))))),
    ),
  );
}

export function badge(text, tone) {
  return h('span', { class: `badge ${tone}` }, text);
}

export function link(href, text, props = {}) {
  return h('a', { href, ...props }, text);
}
