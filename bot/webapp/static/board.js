// The kanban: one column per stage, cards by date (newest in the stage first), drag a card to move
// the deal, tap it for its sheet (move it with a tap, add a note, edit the title or amount). The
// server decides everything: a refused move, or a drop that changes nothing, snaps back and says why.

import { api, ApiError } from "./api.js";
import { enableDrag, flip } from "./drag.js";
import { askLostReason, closeDetailsSheet, detailsOpen, el, fillDetails, fmt, openDetails } from "./sheets.js";
import { haptic, launch, start } from "./telegram.js";

const $ = (id) => document.getElementById(id);
const PRIORITY = { high: "🔥 ", low: "🔻 ", normal: "" };

const state = {
  data: null,
  seller: null,
  pipeline: null,
  loading: null,
  moves: 0,
  openDeal: null,
};

const texts = () => (state.data ? state.data.texts : {});
const stages = () => (state.data ? state.data.columns.map((c) => c.stage) : []);
const stageOf = (id) => stages().find((s) => s.id === Number(id));
const columnNode = (stageId) => $("board").querySelector(`.column[data-stage-id="${stageId}"]`);

function findDeal(id) {
  for (const column of state.data?.columns || []) {
    const deal = column.deals.find((d) => d.id === Number(id));
    if (deal) return deal;
  }
  return null;
}

// --- status, toasts -----------------------------------------------------------------------------

function showStatus(text, { spinner = false, retry = null } = {}) {
  $("status").hidden = false;
  $("spinner").hidden = !spinner;
  $("status-text").textContent = text;
  const button = $("status-retry");
  button.hidden = !retry;
  if (retry) {
    button.textContent = texts().retry || "↻";
    button.onclick = retry;
  }
}

let toastTimer = null;
function toast(text, kind = "info") {
  const box = $("toast");
  box.textContent = text;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 4200 : 2400);
}

function explain(error) {
  if (error instanceof ApiError && error.status === 0) return texts().offline || "Offline";
  return error.message || String(error);
}

// --- loading ------------------------------------------------------------------------------------

async function load({ quiet = false } = {}) {
  if (!quiet) showStatus(texts().loading || "", { spinner: true });
  const request = api.board(state.seller, state.pipeline);
  state.loading = request;
  try {
    const data = await request;
    if (state.loading !== request) return;
    if (document.body.classList.contains("dragging")) {  // never redraw under a finger
      setTimeout(() => load({ quiet: true }), 800);
      return;
    }
    state.data = data;
    render();
    $("status").hidden = true;
  } catch (error) {
    if (state.loading !== request) return;
    if (quiet && error.status !== 401 && error.status !== 403) return toast(explain(error), "error");
    const fatal = error.status === 401 || error.status === 403;
    showStatus(explain(error), { retry: fatal ? null : () => load() });
  } finally {
    if (state.loading === request) state.loading = null;
    $("board").setAttribute("aria-busy", "false");
  }
}

// --- rendering ----------------------------------------------------------------------------------

function render() {
  const data = state.data;
  const t = data.texts;
  document.documentElement.lang = data.locale;
  document.documentElement.dir = data.rtl ? "rtl" : "ltr";
  document.title = t.board;
  $("title").textContent = t.board;
  const open = fmt(t.open_total, { count: data.open.count, amount: data.open.amount_text });
  // The unassigned inbox a seller may take from is shown apart: it is never counted as theirs.
  $("subtitle").textContent = [data.whose, open, data.open.unassigned_text].filter(Boolean).join(" · ");
  $("reload").setAttribute("aria-label", t.reload);
  renderPipelines(data);
  renderSellers(data);

  const board = $("board");
  const scroll = { left: board.scrollLeft, columns: {} };
  for (const list of board.querySelectorAll(".column")) scroll.columns[list.dataset.stageId] = list.querySelector(".cards").scrollTop;
  board.replaceChildren(...data.columns.map((column) => renderColumn(column, t)));
  board.scrollLeft = scroll.left;
  for (const [id, top] of Object.entries(scroll.columns)) {
    const list = columnNode(id)?.querySelector(".cards");
    if (list) list.scrollTop = top;
  }
  if (!localStorage.getItem("kanbot-board-hint")) {
    toast(t.drag_hint);
    localStorage.setItem("kanbot-board-hint", "1");
  }
}

// With several funnels the board is one funnel's: named in the header, where another is picked.
function renderPipelines(data) {
  const box = $("pipeline-box");
  box.hidden = data.pipelines.length < 2;
  if (box.hidden) return;
  $("pipeline-label").textContent = data.texts.funnel;
  const select = $("pipeline");
  select.setAttribute("aria-label", data.texts.funnel);
  select.replaceChildren(...data.pipelines.map((p) => new Option(p.name, String(p.id))));
  select.value = String(data.pipeline.id);
}

function renderSellers(data) {
  const box = $("seller-box");
  box.hidden = !data.me.is_boss;
  if (!data.me.is_boss) return;
  $("seller-label").textContent = data.texts.whose;
  const select = $("seller");
  select.setAttribute("aria-label", data.texts.whose);
  select.replaceChildren(
    new Option(data.texts.everyone, ""),
    ...data.sellers.map((s) => new Option(s.name, String(s.telegram_id))),
  );
  select.value = data.seller ? String(data.seller) : "";
}

function renderColumn(column, t) {
  const { stage } = column;
  const node = el("section", `column kind-${stage.kind}`);
  node.dataset.stageId = stage.id;
  node.setAttribute("aria-label", stage.name);
  const head = el("header", "column-head");
  const name = el("h2", "column-name");
  name.append(el("span", "dot"), el("span", "", stage.name));
  head.append(name, el("span", "count", column.unassigned ? `${column.count} +${column.unassigned}` : String(column.count)));
  if (column.amount_text) head.append(el("div", "sum", column.amount_text));
  const list = el("div", "cards");
  list.setAttribute("role", "list");
  for (const deal of column.deals) list.append(renderCard(deal, t));
  if (!column.deals.length) list.append(el("div", "empty", t.no_deals));
  if (column.more) list.append(el("div", "more", fmt(t.more, { n: column.more })));
  node.append(head, list);
  return node;
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => [...part][0]).join("").toUpperCase();
}

function renderCard(deal, t) {
  const card = el("article", "card");
  card.dataset.dealId = deal.id;
  card.tabIndex = 0;
  card.setAttribute("role", "listitem");
  card.classList.toggle("stale", deal.stale);
  card.classList.toggle("closed", deal.closed);
  card.classList.toggle("locked", !deal.movable);
  const title = el("div", "card-title", PRIORITY[deal.priority] + deal.title);
  title.dir = "auto";
  card.append(title);
  if (deal.contact && deal.contact !== deal.title) {
    const contact = el("div", "card-contact", deal.contact);
    contact.dir = "auto";
    card.append(contact);
  }
  const foot = el("div", "card-foot");
  if (deal.amount_text) foot.append(el("span", "amount", deal.amount_text));
  if (deal.lost_reason) {
    const reason = el("span", "reason", deal.lost_reason);
    reason.dir = "auto";
    foot.append(reason);
  }
  if (!deal.closed) {
    const age = el("span", "age", (deal.stale ? "⏰ " : "") + deal.in_stage);
    age.title = deal.stale ? t.stale : fmt(t.in_stage, { time: deal.in_stage });
    foot.append(age);
  }
  if (!deal.owner) {
    const badge = el("span", "owner nobody", "?");
    badge.title = t.nobody;
    foot.append(badge);
  } else if (state.data.me.is_boss) {
    const badge = el("span", "owner", initials(deal.owner.name));
    badge.title = deal.owner.name;
    badge.style.setProperty("--hue", String((deal.owner.telegram_id * 47) % 360));
    foot.append(badge);
  }
  card.append(foot);
  return card;
}

// --- moving -------------------------------------------------------------------------------------

async function move(deal, stage, card, fromRect = null) {
  const t = texts();
  const stays = stage.id === deal.stage_id;  // the core says why nothing happens
  let extra = {};
  if (stage.kind === "lost" && !stays && !deal.closed) {
    const answer = await askLostReason(deal.title, { texts: t, reasons: state.data.lost_reasons, other: state.data.other });
    if (!answer) {
      haptic.notify("warning");
      if (card && fromRect) flip(card, () => {}, fromRect);
      return false;
    }
    extra = answer;
  }
  const origin = card ? { parent: card.parentElement, next: card.nextElementSibling } : null;
  const target = columnNode(stage.id)?.querySelector(".cards");
  if (card && stays) {
    flip(card, () => {}, fromRect);
  } else if (card && target) {
    flip(card, () => { target.querySelector(".empty")?.remove(); target.prepend(card); }, fromRect);
    card.classList.add("pending");
    card.setAttribute("aria-busy", "true");
    card.title = t.moving;
  }
  state.moves += 1;
  $("board").setAttribute("aria-busy", "true");  // until the board is fresh again after the move
  try {
    const { deal: moved } = await api.move(deal.id, { to_stage_id: stage.id, version: deal.version, ...extra });
    haptic.notify("success");
    const notice = stage.kind === "won" ? t.won : stage.kind === "lost" ? t.lost
      : fmt(deal.closed ? t.reopened : t.moved, { stage: stage.name });
    toast(notice, "success");
    Object.assign(deal, moved);
    if (card) card.replaceWith(renderCard(deal, t));
    return true;
  } catch (error) {
    haptic.notify("error");
    if (card && origin) {
      flip(card, () => origin.parent.insertBefore(card, origin.next));
      card.classList.remove("pending");
      card.removeAttribute("aria-busy");
      card.removeAttribute("title");
      card.classList.add("refused");
      card.addEventListener("animationend", () => card.classList.remove("refused"), { once: true });
    }
    toast(explain(error), "error");
    return false;
  } finally {
    state.moves -= 1;
    // Fresh counts and sums once the card has landed (a redraw mid-animation would cut it short).
    setTimeout(() => { if (!state.moves) load({ quiet: true }); }, 400);
  }
}

function setUpDragging() {
  enableDrag($("board"), {
    canDrag(card) {  // even a card the user may not move: its drop says why, in the core's words
      const deal = findDeal(card.dataset.dealId);
      return deal && !card.classList.contains("pending") ? true : "";
    },
    canDrop: () => true,
    onRefused(card, why) {
      if (!why) return;
      haptic.notify("error");
      card.classList.add("refused");
      card.addEventListener("animationend", () => card.classList.remove("refused"), { once: true });
      toast(why, "error");
    },
    onStart: () => haptic.impact("medium"),
    onOver: () => haptic.select(),
    onDrop(card, from, to, ghostRect) {
      const deal = findDeal(card.dataset.dealId);
      const stage = stageOf(to.dataset.stageId);
      if (deal && stage) move(deal, stage, card, ghostRect);
    },
  });
}

// --- details --------------------------------------------------------------------------------------

async function showDetails(dealId) {
  const deal = findDeal(dealId);
  if (!deal) return;
  state.openDeal = deal.id;
  openDetails(deal.title, texts());
  try {
    const { deal: full } = await api.deal(deal.id);
    if (state.openDeal !== deal.id) return;
    fillSheet(full);
  } catch (error) {
    closeDetailsSheet();
    toast(explain(error), "error");
    if (error.status === 404) load({ quiet: true });
  }
}

function fillSheet(full) {
  const t = texts();
  let shown = full;
  const saved = (fresh, notice) => {  // the deal changed on the sheet: the sheet and its card follow
    shown = fresh;
    const boardDeal = findDeal(fresh.id);
    if (boardDeal) {
      for (const key of Object.keys(boardDeal)) if (key in fresh) boardDeal[key] = fresh[key];
      $("board").querySelector(`.card[data-deal-id="${fresh.id}"]`)?.replaceWith(renderCard(boardDeal, t));
    }
    if (state.openDeal === fresh.id) fillSheet(fresh);
    haptic.notify("success");
    toast(notice, "success");
    load({ quiet: true });  // the column's sum
  };
  const refused = (error) => {
    haptic.notify("error");
    if (error.status === 409 || error.status === 404) {  // changed or gone meanwhile: show it as it is
      load({ quiet: true });
      showDetails(shown.id);
      toast(explain(error), "error");
    }
    throw new Error(explain(error));
  };
  fillDetails(full, {
    texts: t,
    stages: stages(),
    onMove: async (stage) => {
      closeDetailsSheet();
      const card = $("board").querySelector(`.card[data-deal-id="${shown.id}"]`);
      const current = findDeal(shown.id) || shown;
      const target = columnNode(stage.id);
      if (target) {
        // On a phone a column is nearly the screen's width: show it whole, as the snap would.
        const wide = target.offsetWidth > $("board").clientWidth * 0.6;
        target.scrollIntoView({ behavior: "smooth", inline: wide ? "start" : "nearest", block: "nearest" });
      }
      await move(current, stage, card);
    },
    onNote: (text) => api.note(shown.id, { text }).then(({ deal: fresh }) => saved(fresh, t.note_saved), refused),
    onEdit: (field, value) => api.edit(shown.id, { field, value, version: shown.version })
      .then(({ deal: fresh }) => saved(fresh, t.saved), refused),
    onPipeline: (pipeline, stage) => api.pipeline(shown.id, { pipeline_id: pipeline.id, stage_id: stage.id, version: shown.version })
      .then(({ deal: fresh }) => {
        closeDetailsSheet();
        haptic.notify("success");
        toast(fmt(t.moved_funnel, { pipeline: pipeline.name, stage: stage.name }), "success");
        load({ quiet: true });  // the deal has left this funnel's board
        return fresh;
      }, refused),
  });
}

// --- wiring ---------------------------------------------------------------------------------------

function wire() {
  $("reload").addEventListener("click", () => load());
  $("pipeline").addEventListener("change", (event) => {
    state.pipeline = event.target.value || null;
    load();
  });
  $("seller").addEventListener("change", (event) => {
    state.seller = event.target.value || null;
    load();
  });
  $("board").addEventListener("click", (event) => {
    const card = event.target.closest(".card");
    if (card) showDetails(card.dataset.dealId);
  });
  $("board").addEventListener("keydown", (event) => {
    const card = event.target.closest(".card");
    if (card && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      showDetails(card.dataset.dealId);
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.data && !state.moves && !detailsOpen()) load({ quiet: true });
  });
  setUpDragging();
}

start();
wire();
if (!launch.initData) document.body.classList.add("outside-telegram");
load();
window.kanbotBoard = { state, load };
