// The local console: what the person does in the page, sent to POST /console/api/act, which delivers
// it to the app exactly as Slack would; the app's answer comes back through polling (page.js).
// No framework and no build step.

import { $, $$, closeMenus, collect, confirmed, container, find, keyOf, valueOf } from "./blockkit.js";
import { act, at, closeModal, composer, followFrom, go, input, openThread, panes, start, toEnd } from "./page.js";

async function send(el, kind, extra) {
  const where = container(el);
  const fields = { action_id: el.dataset.actionId, block_id: el.dataset.blockId, ...extra };
  if (where.view_id) return act(kind === "click" ? "view_click" : "view_select", { ...where, ...fields }, el);
  return act(kind, { ...where, ...fields }, el);
}

// Images and charts fit their pane; a click shows one at full size, over the page.
const lightbox = $("#lightbox");
function showFullSize(img) {
  const full = $("img", lightbox);
  full.src = img.currentSrc || img.src;
  full.alt = img.alt;
  $("[data-lightbox-caption]", lightbox).textContent = img.alt || "";
  const link = $("a", lightbox);
  link.hidden = full.src.startsWith("data:");
  link.href = link.hidden ? "#" : full.src;
  lightbox.showModal();
  $("[data-lightbox-close]", lightbox).focus();
}
lightbox.addEventListener("click", (event) => {
  if (!event.target.closest("a")) lightbox.close();
});

document.addEventListener("click", async (event) => {
  closeMenus(event.target.closest("details.bk-overflow"));
  const picture = event.target.closest(".file-image img, img.bk-image-img");
  if (picture) {
    event.preventDefault();
    return showFullSize(picture);
  }
  const pendingControl = event.target.closest("[data-act].pending, details.pending");
  if (pendingControl) return event.preventDefault(); // answered once; wait for that answer
  const el = event.target.closest(
    "[data-act=click], [data-option], [data-thread], [data-close-thread], [data-channel-link], [data-surface], [data-dismiss], [data-close], .bk-external-options li",
  );
  if (!el) return;
  if (el.matches("[data-channel-link]")) {
    event.preventDefault();
    return go({ channel: el.dataset.channelLink, surface: "channel", thread: "" });
  }
  if (el.matches("[data-surface]")) {
    event.preventDefault();
    go({ surface: el.dataset.surface, thread: "" });
    if (el.dataset.surface === "home") act("home");
    return;
  }
  if (el.matches("[data-thread]")) return openThread(el.dataset.thread);
  if (el.matches("[data-close-thread]")) return go({ thread: "" });
  if (el.matches("[data-dismiss]")) return act("dismiss", { ts: el.dataset.dismiss });
  if (el.matches("[data-close]")) return closeModal({ back: el.dataset.close === "back" });
  if (el.matches(".bk-external-options li")) return choose(el);
  if (el.matches("[data-option]")) {
    const menu = el.closest("details.bk-overflow");
    closeMenus();
    if (!(await confirmed(menu))) return;
    return send(menu, "select", { selected: el.dataset.option });
  }
  if (el.matches("[data-act=click]")) {
    if (!(await confirmed(el))) return;
    if (el.dataset.url && /^(https?:|mailto:)/i.test(el.dataset.url)) window.open(el.dataset.url, "_blank", "noopener");
    return send(el, "click", { value: el.dataset.value ?? null });
  }
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-user-switch]")) {
    go({ user: event.target.value });
    if (at.surface === "home") act("home");
    return;
  }
  const el = event.target.closest("[data-act=select]");
  if (!el || el.classList.contains("bk-external")) return;
  send(el, "select", { selected: valueOf(el) });
});

// External selects: options come from the app's block_suggestion answer.
let suggestTimer = null;
document.addEventListener("input", (event) => {
  const box = event.target.closest(".bk-external");
  if (!box || !event.target.matches(".bk-external-query")) return;
  box.dataset.selected = "";
  clearTimeout(suggestTimer);
  const text = event.target.value;
  if (text.length < Number(box.dataset.minQuery || 3)) {
    $(".bk-external-options", box).hidden = true;
    return;
  }
  // The pane may be redrawn while the person types: find the control again by its key.
  const where = container(box);
  const where_ = where.view_id ? { view_id: where.view_id } : { channel: where.channel, ts: where.ts };
  const key = keyOf(box);
  const pane = box.closest("#main, #thread, #modal");
  suggestTimer = setTimeout(async () => {
    const outcome = await act("suggest", {
      container: where_,
      action_id: box.dataset.actionId,
      block_id: box.dataset.blockId,
      query: text,
    });
    const live = (pane && find(pane, key)) || box;
    const list = $(".bk-external-options", live);
    const field = $(".bk-external-query", live);
    list.replaceChildren();
    for (const [index, item] of (outcome.options || []).entries()) {
      const li = Object.assign(document.createElement("li"), { textContent: item.label, tabIndex: -1, id: `${list.id}-${index}` });
      li.setAttribute("role", "option");
      li.dataset.option = JSON.stringify(item.option);
      list.append(li);
    }
    if (!list.children.length) list.append(Object.assign(document.createElement("li"), { textContent: "No matches", className: "none" }));
    list.hidden = false;
    field.setAttribute("aria-expanded", "true");
  }, 200);
});

function choose(li) {
  if (li.classList.contains("none")) return;
  const box = li.closest(".bk-external");
  const option = JSON.parse(li.dataset.option);
  box.dataset.selected = li.dataset.option;
  const field = $(".bk-external-query", box);
  field.value = option.text.text;
  field.setAttribute("aria-expanded", "false");
  li.parentElement.hidden = true;
  field.focus();
  if (box.dataset.act === "select") send(box, "select", { selected: option });
}

document.addEventListener("keydown", (event) => {
  const list = event.target.closest(".bk-external")?.querySelector(".bk-external-options");
  if (list && !list.hidden && ["ArrowDown", "ArrowUp"].includes(event.key)) {
    event.preventDefault();
    const items = $$("li:not(.none)", list);
    const now = items.indexOf(document.activeElement);
    const next = items[Math.max(0, Math.min(items.length - 1, now + (event.key === "ArrowDown" ? 1 : -1)))];
    if (next) next.focus();
    return;
  }
  if (list && event.key === "Enter" && event.target.matches(".bk-external-options li")) {
    event.preventDefault();
    return choose(event.target);
  }
  const menu = event.target.closest("details.bk-overflow[open]");
  if (event.key === "Escape" && menu) {
    event.preventDefault();
    event.stopPropagation();
    menu.open = false;
    $("summary", menu).focus();
    return;
  }
  if (event.key === "Escape" && list && !list.hidden) {
    event.preventDefault();
    event.stopPropagation();
    list.hidden = true;
    return;
  }
  const form = event.target.closest("form.modal");
  if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
    event.preventDefault();
    form.requestSubmit();
  }
});

panes.modal.addEventListener("cancel", (event) => {
  // Esc closes the modal the way Slack does (the app hears view_closed if it asked to), at once.
  event.preventDefault();
  closeModal();
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  event.preventDefault();
  if (form === composer) {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    toEnd("main"); // what you send scrolls into view, wherever you had scrolled to
    const outcome = await act("send", { channel: at.channel, text, thread: "" }, composer);
    if (text.startsWith("/") && outcome.since !== undefined) followFrom(outcome.since);
    return;
  }
  if (form.matches("form.modal")) {
    const submit = $("button[type=submit]", form);
    if (submit?.classList.contains("pending")) return;
    await act("submit", { view_id: form.dataset.viewId, values: collect(form) }, submit || form);
  }
});

start();
