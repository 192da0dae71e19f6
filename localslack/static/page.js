// The page's state: which person, channel, thread and surface are shown; polling the server for the
// panes that changed and redrawing them without losing what the person is doing.

import { $, $$, find, keyOf, setValue, typedValues } from "./blockkit.js";

const body = document.body;
export const panes = { sidebar: $("#sidebar"), main: $("#main"), thread: $("#thread"), modal: $("#modal") };
export const composer = $("#composer");
export const input = $("#composer-input");
const toast = $("#toast");
export const at = {
  user: body.dataset.atUser,
  channel: body.dataset.atChannel,
  surface: body.dataset.atSurface || "channel",
  thread: body.dataset.atThread || "",
};
let rev = null;
const etags = {};
let follow = null;
let fastUntil = 0;
let timer = null;
let offline = false;
let opener = null;

export async function act(kind, fields = {}) {
  fastUntil = Date.now() + 4000;
  let outcome;
  try {
    const response = await fetch("/console/api/act", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Console": "1" },
      body: JSON.stringify({ kind, user: at.user, ...fields }),
    });
    outcome = await response.json();
  } catch (error) {
    outcome = { ok: false, error: "The console lost the server; is scalebot still running?" };
  }
  if (outcome.error) say(outcome.error);
  poll(0);
  return outcome;
}

function query(extra = {}) {
  const params = new URLSearchParams({ user: at.user, channel: at.channel, surface: at.surface });
  if (at.thread) params.set("thread", at.thread);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params;
}

// One state request at a time; an answer to a request made before the person navigated is dropped.
let nav = 0;
let inflight = false;
let again = false;

async function refresh() {
  if (inflight) {
    again = true;
    return;
  }
  inflight = true;
  try {
    do {
      again = false;
      const asked = nav;
      const known = Object.entries(etags).map(([name, tag]) => `${name}:${tag}`).join(",");
      const extra = { known };
      if (rev !== null) extra.rev = String(rev);
      const response = await fetch(`/console/api/state?${query(extra)}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`state: HTTP ${response.status}`);
      const state = await response.json();
      if (offline) {
        offline = false;
        say("");
      }
      if (asked !== nav) {
        again = true;
        continue;
      }
      if (!state.unchanged) apply(state);
    } while (again);
  } finally {
    inflight = false;
  }
}

export function poll(delay) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    try {
      await refresh();
      poll(Date.now() < fastUntil ? 150 : 800);
    } catch (error) {
      offline = true;
      say("Reconnecting to scalebot…", true);
      poll(1000);
    }
  }, delay);
}

// -- showing state ----------------------------------------------------------------------------

function apply(state) {
  Object.assign(at, { user: state.user, channel: state.channel, surface: state.surface, thread: state.thread });
  body.dataset.atUser = at.user;
  body.dataset.atChannel = at.channel;
  body.dataset.atSurface = at.surface;
  body.dataset.atThread = at.thread;
  for (const [name, pane] of Object.entries(state.panes)) {
    if (pane.html !== undefined && pane.etag !== etags[name]) replace(name, pane.html);
    etags[name] = pane.etag;
  }
  rev = state.rev;
  $("#main-title").textContent = state.title;
  document.title = `${state.title} · local console`;
  input.placeholder = `${state.placeholder} — try /scale-check`;
  composer.hidden = at.surface !== "channel"; // the app's Messages tab is read-only
  panes.thread.hidden = !at.thread;
  followThread(state.threads);
  history.replaceState(null, "", `?${query()}`);
}

// What the person is in the middle of (a search typed, a menu open, a choice shown) survives a redraw.
function carry(old, fresh) {
  for (const before of $$(".bk-external, details.bk-overflow, select[data-act=select], input[data-act=select]", old)) {
    const after = find(fresh, keyOf(before));
    if (!after || after.tagName !== before.tagName) continue;
    if (before.matches("details")) after.open = before.open;
    else if (before.classList.contains("bk-external")) {
      after.dataset.selected = before.dataset.selected || after.dataset.selected;
      $(".bk-external-query", after).value = $(".bk-external-query", before).value;
      const list = $(".bk-external-options", before);
      $(".bk-external-options", after).replaceChildren(...list.childNodes);
      $(".bk-external-options", after).hidden = list.hidden;
    } else if (before.value && !after.value) after.value = before.value;
  }
}

function scrollState(pane) {
  const box = pane.matches(".timeline") ? pane : $(".thread-scroll", pane);
  if (!box) return () => {};
  const top = box.scrollTop;
  const nearBottom = box.scrollHeight - top - box.clientHeight < 80;
  return () => {
    const again = pane.matches(".timeline") ? pane : $(".thread-scroll", pane);
    if (again) again.scrollTop = nearBottom ? again.scrollHeight : top;
  };
}

function replace(name, html) {
  const pane = panes[name];
  const focused = pane.contains(document.activeElement) ? keyOf(document.activeElement) : null;
  const form = name === "modal" ? $("form", pane) : null;
  const before = form ? { id: form.dataset.viewId, typed: typedValues(form) } : null;
  const restoreScroll = scrollState(pane);
  const old = document.createElement("div");
  old.append(...pane.childNodes);
  pane.innerHTML = html;
  carry(old, pane);
  if (name === "modal") return showModal(before);
  restoreScroll();
  const again = find(pane, focused);
  if (again) again.focus();
}

function showModal(before) {
  const dialog = panes.modal;
  const form = $("form", dialog);
  if (!form) {
    if (dialog.open) dialog.close();
    const back = find(panes.thread, opener) || find(panes.main, opener) || input;
    back.focus();
    opener = null;
    return;
  }
  if (before && before.id === form.dataset.viewId) {
    for (const el of $$("[data-act=input]", form)) {
      if (el.classList.contains("bk-external")) continue; // carried over with its search
      if (before.typed.has(el.dataset.key)) setValue(el, before.typed.get(el.dataset.key));
    }
  }
  if (!dialog.open) {
    opener = keyOf(document.activeElement);
    dialog.showModal();
  }
  const invalid = $(".has-error input, .has-error textarea, .has-error select", form);
  const first = invalid || $("[autofocus]", form) || $("input, textarea, select, button:not([data-close])", form);
  if (first && !(before && before.id === form.dataset.viewId && form.contains(document.activeElement))) {
    first.focus();
  }
}

function followThread(threads) {
  if (follow === null || !threads) return;
  if (Date.now() > follow.until) {
    follow = null;
    return;
  }
  const started = threads.find(([ts, replies]) => parseFloat(ts) >= follow.since && replies > 0);
  if (started) {
    follow = null;
    openThread(started[0]);
  }
}

export function say(text, sticky = false) {
  toast.textContent = text;
  toast.hidden = !text;
  clearTimeout(say.timer);
  if (text && !sticky) say.timer = setTimeout(() => (toast.hidden = true), 6000);
}

export function go(changes) {
  Object.assign(at, changes);
  nav += 1;
  rev = null;
  poll(0);
}

export function openThread(ts) {
  go({ thread: ts });
}

/** After a slash command, open the thread it starts (if one starts within 15 seconds). */
export function followFrom(since) {
  follow = { since, until: Date.now() + 15000 };
}

/** Show the modal the page was rendered with, then keep everything current. */
export function start() {
  if ($("form", panes.modal)) showModal(null);
  panes.main.scrollTop = panes.main.scrollHeight;
  poll(0);
}
