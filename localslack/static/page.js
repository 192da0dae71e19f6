// The page's state: which person, channel, thread and surface are shown; polling the server for the
// panes that changed and redrawing them without losing what the person is doing.

import { $, $$, find, keyOf, setValue, typedValues } from "./blockkit.js";

const body = document.body;
export const panes = { sidebar: $("#sidebar"), main: $("#main"), thread: $("#thread"), modal: $("#modal") };
export const composer = $("#composer");
export const input = $("#composer-input");
const toast = $("#toast");
const busyBox = $("#busy");
const newBelow = $("#new-below");
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

// -- work in flight ------------------------------------------------------------------------------
// A clicked control shows it is pending (class `pending`, aria-busy) and, when the answer takes longer
// than BUSY_AFTER_MS, the page says it is working (#busy, aria-busy on the messages). A piece of work
// ends once its request was answered and a pane it can change (messages, thread, modal) has changed
// since it began; work whose answer changes nothing ends a grace period after the app acknowledged it.
const BUSY_AFTER_MS = 300;
const CLICK_GRACE_MS = 3000;
const COMMAND_GRACE_MS = 30000;
const works = new Set();
let paneChanges = 0;

function markPending(el, on) {
  if (!el || !el.classList) return;
  el.classList.toggle("pending", on);
  if (on) el.setAttribute("aria-busy", "true");
  else el.removeAttribute("aria-busy");
}

function begin(source, grace) {
  const work = { source, key: keyOf(source), since: paneChanges, grace, answered: false, timers: [] };
  works.add(work);
  markPending(source, true);
  work.timers.push(setTimeout(() => showBusy(true), BUSY_AFTER_MS));
  return work;
}

function end(work) {
  if (!works.delete(work)) return;
  work.timers.forEach(clearTimeout);
  markPending(work.source, false);
  for (const pane of Object.values(panes)) markPending(find(pane, work.key), false);
  if (!works.size) showBusy(false);
}

function answered(work, outcome) {
  work.answered = true;
  if (outcome.ok === false || outcome.error || paneChanges > work.since) return end(work);
  work.timers.push(setTimeout(() => end(work), work.grace));
}

// After a redraw: work whose answer has arrived ends; pending marks are put back on redrawn controls.
function settle() {
  for (const work of works) {
    if (work.answered && paneChanges > work.since) end(work);
    else for (const pane of Object.values(panes)) markPending(find(pane, work.key), true);
  }
}

function showBusy(on) {
  const busy = on && works.size > 0;
  busyBox.hidden = !busy;
  panes.main.setAttribute("aria-busy", busy ? "true" : "false");
}

/** Send what the person did; `source` (the control, or the message box) shows pending until answered. */
export async function act(kind, fields = {}, source = null) {
  fastUntil = Date.now() + 4000;
  const work = source ? begin(source, kind === "send" ? COMMAND_GRACE_MS : CLICK_GRACE_MS) : null;
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
  if (work) answered(work, outcome);
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
    if (pane.html !== undefined && pane.etag !== etags[name]) {
      replace(name, pane.html);
      if (name !== "sidebar") paneChanges += 1;
    }
    etags[name] = pane.etag;
  }
  settle();
  rev = state.rev;
  $("#main-title").textContent = state.title;
  document.title = `${state.title} · local console`;
  input.placeholder = `${state.placeholder} — try /scale-check`;
  composer.hidden = at.surface !== "channel"; // the app's Messages tab is read-only
  panes.thread.hidden = !at.thread;
  keepFollowing(); // a pane just shown (the thread) can scroll only now
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

// -- scrolling like a chat client ---------------------------------------------------------------
// The messages and the thread scroll in their own boxes (the page never does). Each box follows the
// newest message while the reader is at its end; once they scroll up it stays where they are, and
// "New messages" offers the way back down.
const NEAR_END_PX = 80;
const follows = { main: true, thread: true };

function scrollBox(name) {
  if (name === "main") return panes.main;
  if (name === "thread") return $(".thread-scroll", panes.thread);
  return null;
}

function atEnd(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_END_PX;
}

export function toEnd(name) {
  follows[name] = true;
  if (name === "main" && (at.surface === "home" || at.surface === "canvas")) return; // read from the top
  const box = scrollBox(name);
  if (box) box.scrollTop = box.scrollHeight;
  if (name === "main") newBelow.hidden = true;
}

function keepFollowing() {
  for (const name of ["main", "thread"]) if (follows[name]) toEnd(name);
}

document.addEventListener(
  "scroll",
  (event) => {
    for (const name of ["main", "thread"]) {
      const box = scrollBox(name);
      if (box && event.target === box) {
        follows[name] = atEnd(box);
        if (name === "main" && follows.main) newBelow.hidden = true;
      }
    }
  },
  true,
);
// An image that loads late makes its message taller: keep the end in view for a reader who follows.
document.addEventListener("load", (event) => event.target.tagName === "IMG" && keepFollowing(), true);

let mainSurface = at.surface;

function scrollState(name) {
  const box = scrollBox(name);
  if (!box) return () => name === "thread" && toEnd("thread"); // a thread just opened shows its end
  const top = box.scrollTop;
  const height = box.scrollHeight;
  const wasSurface = mainSurface;
  return () => {
    const again = scrollBox(name);
    if (!again) return;
    if (name === "main") mainSurface = at.surface;
    if (name === "main" && (at.surface === "home" || at.surface === "canvas")) {
      again.scrollTop = wasSurface === at.surface ? top : 0; // opened at the top, then kept where it was read
      return;
    }
    if (follows[name]) return toEnd(name);
    again.scrollTop = top;
    if (name === "main" && again.scrollHeight > height) newBelow.hidden = false;
  };
}

function replace(name, html) {
  const pane = panes[name];
  const focused = pane.contains(document.activeElement) ? keyOf(document.activeElement) : null;
  const form = name === "modal" ? $("form", pane) : null;
  const before = form ? { id: form.dataset.viewId, typed: typedValues(form) } : null;
  const restoreScroll = scrollState(name);
  const old = document.createElement("div");
  old.append(...pane.childNodes);
  pane.innerHTML = html;
  carry(old, pane);
  if (name === "modal") return showModal(before);
  restoreScroll();
  const again = find(pane, focused);
  if (again) again.focus();
}

// -- modals: Esc, the close button and Cancel always close, even when the app or the server is gone --
let closingHere = false;

function closeDialog() {
  closingHere = true;
  if (panes.modal.open) panes.modal.close();
  closingHere = false;
}

// Views closed here: a state fetched before the close reached the server still holds the view, and
// drawing it would open the modal again (and lose where the focus goes back to). A view id is never reused;
// a close the server did not take is forgotten, so the view shows again when the server does.
const closedViews = new Set();

/** Close the modal now and tell the app; whatever the app shows next (a view below, nothing) follows. */
export async function closeModal({ back = false } = {}) {
  const form = $("form.modal", panes.modal);
  if (!back) closeDialog();
  if (!form) return;
  const viewId = form.dataset.viewId;
  closedViews.add(viewId);
  const outcome = await act("close", { view_id: viewId });
  // The server never heard of it (away, an error): its state may show the view again, and it will.
  if (outcome.error) closedViews.delete(viewId);
  if (!back || outcome.error) closeDialog();
  delete etags.modal; // the next state brings the modal pane as the server has it now
  poll(0);
}

// A dialog the browser closed by itself (Esc on a page just reloaded fires no cancelable event).
panes.modal.addEventListener("close", () => {
  if (!closingHere && $("form.modal", panes.modal)) closeModal();
});

function showModal(before) {
  const dialog = panes.modal;
  let form = $("form", dialog);
  if (form && closedViews.has(form.dataset.viewId)) {
    panes.modal.innerHTML = ""; // the server has not heard of the close yet: the next state follows
    form = null;
  }
  if (!form) {
    const wasOpen = dialog.open || opener !== null;
    closeDialog();
    if (wasOpen) {
      const back = find(panes.thread, opener) || find(panes.main, opener) || input;
      back.focus();
    }
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
  if ("channel" in changes || "surface" in changes || "user" in changes) follows.main = true;
  if ("thread" in changes) follows.thread = true;
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
  toEnd("main");
  toEnd("thread");
  newBelow.addEventListener("click", () => toEnd("main"));
  poll(0);
}
