// Block Kit controls in the page: their values as Slack's state holds them, what they belong to,
// how to find one again after a redraw, and Slack's confirm dialog.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

// An element's identity across re-renders: its Block Kit key within its message or view.
export function keyOf(element) {
  if (!element || element === document.body || !element.dataset) return null;
  if (element.id && !element.dataset.key) return `#${element.id}`;
  if (!element.dataset.key) return null;
  const owner = element.closest("[data-ts], [data-view-id]");
  return `${owner ? owner.dataset.ts || owner.dataset.viewId : ""}|${element.dataset.key}`;
}

export function find(root, key) {
  if (!key) return null;
  if (key.startsWith("#")) return root.querySelector(key.replace(/^#(.*)$/, (_, id) => `#${CSS.escape(id)}`));
  return $$("[data-key]", root).find((el) => keyOf(el) === key) || null;
}

export function valueOf(el) {
  if (el.classList.contains("bk-external")) {
    return el.dataset.selected ? JSON.parse(el.dataset.selected) : null;
  }
  if (el.tagName === "FIELDSET") {
    const checked = $$("input:checked", el).map((box) => box.value);
    return el.dataset.type === "checkboxes" ? checked : checked[0] || null;
  }
  if (el.tagName === "SELECT" && el.multiple) return Array.from(el.selectedOptions).map((o) => o.value);
  return el.value === "" ? null : el.value;
}

export function setValue(el, value) {
  if (el.classList.contains("bk-external")) {
    el.dataset.selected = value ? JSON.stringify(value) : "";
    $(".bk-external-query", el).value = value ? value.text.text : "";
  } else if (el.tagName === "FIELDSET") {
    const chosen = new Set(Array.isArray(value) ? value : [value]);
    for (const box of $$("input", el)) box.checked = chosen.has(box.value);
  } else if (el.tagName === "SELECT" && el.multiple) {
    const chosen = new Set(value || []);
    for (const option of el.options) option.selected = chosen.has(option.value);
  } else {
    el.value = value === null || value === undefined ? "" : value;
  }
}

export function collect(form) {
  const values = {};
  for (const el of $$("[data-act=input], .bk-input [data-act=select]", form)) {
    (values[el.dataset.blockId] ||= {})[el.dataset.actionId] = valueOf(el);
  }
  return values;
}

export function typedValues(root) {
  const typed = new Map();
  for (const el of $$("[data-act=input]", root)) typed.set(el.dataset.key, valueOf(el));
  return typed;
}

export function container(el) {
  const form = el.closest("form.modal");
  if (form) return { view_id: form.dataset.viewId, values: collect(form) };
  const home = el.closest(".home[data-view-id]");
  if (home) return { view_id: home.dataset.viewId, values: {} };
  const message = el.closest("article[data-ts]");
  return { channel: message.dataset.channel, ts: message.dataset.ts };
}

export function confirmed(el) {
  if (!el.dataset.confirm) return Promise.resolve(true);
  const spec = JSON.parse(el.dataset.confirm);
  const dialog = $("#confirm");
  dialog.replaceChildren();
  const title = Object.assign(document.createElement("h2"), { id: "confirm-title", textContent: spec.title });
  const text = Object.assign(document.createElement("p"), { textContent: spec.text });
  const row = Object.assign(document.createElement("footer"), {});
  const deny = Object.assign(document.createElement("button"), { type: "button", className: "bk-button", textContent: spec.deny });
  const ok = Object.assign(document.createElement("button"), {
    type: "button",
    className: `bk-button ${spec.style === "danger" ? "danger" : "primary"}`,
    textContent: spec.confirm,
  });
  row.append(deny, ok);
  dialog.append(title, text, row);
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      resolve(answer);
    };
    deny.onclick = () => done(false);
    ok.onclick = () => done(true);
    dialog.oncancel = (event) => {
      event.preventDefault();
      done(false);
    };
    dialog.showModal();
    ok.focus();
  });
}

export function closeMenus(except = null) {
  for (const menu of $$("details.bk-overflow[open]")) if (menu !== except) menu.open = false;
}
