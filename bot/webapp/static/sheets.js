// The two sheets over the board: a deal's details (with its history and "move to" stages), and the
// question why a deal was lost. Everything user-written is set as text, never as HTML.

import { backButton, on } from "./telegram.js";

const $ = (id) => document.getElementById(id);
const closers = [];

export function el(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null && text !== undefined) node.textContent = text;
  return node;
}

export function fmt(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

function show(sheet, backdrop, close) {
  sheet.hidden = false;
  backdrop.hidden = false;
  requestAnimationFrame(() => { sheet.classList.add("open"); backdrop.classList.add("open"); });
  closers.push(close);
  backButton(true);
}

function hide(sheet, backdrop, close) {
  sheet.classList.remove("open");
  backdrop.classList.remove("open");
  const index = closers.indexOf(close);
  if (index >= 0) closers.splice(index, 1);
  if (!closers.length) backButton(false);
  setTimeout(() => { if (!sheet.classList.contains("open")) { sheet.hidden = true; backdrop.hidden = true; } }, 220);
}

on("back_button_pressed", () => closers.at(-1)?.());
document.addEventListener("keydown", (event) => { if (event.key === "Escape") closers.at(-1)?.(); });

// --- a deal's details ---------------------------------------------------------------------------

let closeDetails = null;

export function detailsOpen() { return closeDetails !== null; }

/** Show the sheet with a loading state; returns { fill(deal), close() }. */
export function openDetails(title, texts) {
  const sheet = $("sheet");
  const backdrop = $("sheet-backdrop");
  $("sheet-title").textContent = title;
  $("sheet-close").setAttribute("aria-label", texts.close);
  $("sheet-body").replaceChildren(el("div", "spinner small"));
  if (!closeDetails) {
    closeDetails = () => { hide(sheet, backdrop, closeDetails); closeDetails = null; };
    $("sheet-close").onclick = () => closeDetails?.();
    backdrop.onclick = () => closeDetails?.();
    show(sheet, backdrop, closeDetails);
  }
  return { close: () => closeDetails?.() };
}

/**
 * Fill the open sheet with `deal` (from GET api/deals/{id}); `stages` are the board's stages,
 * `onMove(stage)` moves the deal there.
 */
export function fillDetails(deal, { texts, stages, onMove }) {
  if (!closeDetails) return;
  $("sheet-title").textContent = deal.title;
  const body = $("sheet-body");
  body.replaceChildren();

  const stageLine = el("div", `stage-pill kind-${deal.stage.kind}`);
  stageLine.append(el("span", "dot"), el("span", "", [deal.stage.place, deal.stage.name].filter(Boolean).join(" ")));
  const top = el("div", "detail-top");
  top.append(stageLine);
  if (deal.amount_text) top.append(el("div", "detail-amount", deal.amount_text));
  body.append(top);

  const facts = el("dl", "facts");
  const fact = (icon, text, href = null) => {
    if (!text) return;
    const dt = el("dt", "", icon);
    const dd = el("dd");
    if (href) {
      const link = el("a", "", text);
      link.href = href;
      dd.append(link);
    } else {
      dd.textContent = text;
    }
    dd.dir = "auto";
    facts.append(dt, dd);
  };
  fact("👤", [deal.contact_name, deal.company].filter(Boolean).join(" · "));
  fact("📞", deal.phone, deal.phone ? `tel:${deal.phone.replace(/[^\d+]/g, "")}` : null);
  fact("🧑‍💼", deal.owner ? deal.owner.name : texts.nobody);
  if (!deal.closed) fact(deal.stale ? "⏰" : "⏱", fmt(texts.in_stage, { time: deal.in_stage }) + (deal.stale ? ` · ${texts.stale}` : ""));
  if (deal.lost_reason) fact("🚫", fmt(texts.reason, { reason: deal.lost_reason }));
  if (deal.next_task) fact(deal.next_task.overdue ? "⚠️" : "🗓", fmt(texts.next_task, { task: deal.next_task.text, when: deal.next_task.when }));
  if (deal.snoozed_until) fact("💤", fmt(texts.snoozed, { when: deal.snoozed_until }));
  fact("✨", fmt(texts.created, { when: deal.created }));
  body.append(facts);
  if (deal.playbook) body.append(el("p", "playbook", `💡 ${deal.playbook}`));

  if (deal.movable) {
    body.append(el("h3", "section-title", texts.move_to));
    const chips = el("div", "chips");
    for (const stage of stages) {
      if (stage.id === deal.stage_id) continue;
      const chip = el("button", `chip kind-${stage.kind}`);
      chip.type = "button";
      chip.append(el("span", "dot"), el("span", "", stage.name));
      chip.addEventListener("click", () => onMove(stage));
      chips.append(chip);
    }
    body.append(chips);
  } else if (!deal.owner) {
    body.append(el("p", "hint", texts.take_first));
  }

  body.append(el("h3", "section-title", texts.history));
  const list = el("ol", "history");
  for (const line of deal.history) {
    const item = el("li");
    const meta = el("div", "history-meta", [line.when, line.who].filter(Boolean).join(" · "));
    const text = el("div", "history-text", line.text);
    text.dir = "auto";
    item.append(meta, text);
    list.append(item);
  }
  body.append(list);
}

export function closeDetailsSheet() { closeDetails?.(); }

// --- why was it lost? ---------------------------------------------------------------------------

/** Ask for the lost reason: resolves to { lost_reason, lost_text? } or null when cancelled. */
export function askLostReason(dealTitle, { texts, reasons, other }) {
  const form = $("ask");
  const backdrop = $("ask-backdrop");
  const input = $("ask-text");
  const ok = $("ask-ok");
  $("ask-title").textContent = texts.why_lost;
  $("ask-subtitle").textContent = dealTitle;
  $("ask-cancel").textContent = texts.cancel;
  ok.textContent = texts.mark_lost;
  input.placeholder = texts.other_hint;
  input.value = "";
  input.hidden = true;
  ok.disabled = true;
  const choices = $("ask-choices");
  choices.replaceChildren();
  let chosen = null;
  const options = [...reasons, { value: other, label: texts.other }];
  for (const option of options) {
    const chip = el("button", "chip choice", option.label);
    chip.type = "button";
    chip.setAttribute("role", "radio");
    chip.setAttribute("aria-checked", "false");
    chip.dataset.value = option.value;
    chip.addEventListener("click", () => {
      chosen = option.value;
      for (const node of choices.children) node.setAttribute("aria-checked", String(node === chip));
      input.hidden = chosen !== other;
      if (!input.hidden) input.focus();
      update();
    });
    choices.append(chip);
  }
  const update = () => { ok.disabled = !chosen || (chosen === other && !input.value.trim()); };
  input.oninput = update;

  return new Promise((resolve) => {
    const close = (answer) => {
      form.onsubmit = null;
      hide(form, backdrop, cancel);
      resolve(answer);
    };
    const cancel = () => close(null);
    $("ask-cancel").onclick = cancel;
    backdrop.onclick = cancel;
    form.onsubmit = (event) => {
      event.preventDefault();
      if (ok.disabled) return;
      close(chosen === other ? { lost_reason: other, lost_text: input.value.trim() } : { lost_reason: chosen });
    };
    show(form, backdrop, cancel);
  });
}
