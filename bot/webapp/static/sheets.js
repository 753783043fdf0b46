// The two sheets over the board: a deal's details — its stage picker, a note, the title and amount to
// edit, its history — and the question why a deal was lost. Everything user-written is set as text,
// never as HTML.

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
  $("sheet-title").hidden = false;
  $("sheet-edit-title").hidden = true;
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
 * Fill the open sheet with `deal` (from GET api/deals/{id}); `stages` are the board's stages.
 * `onMove(stage)` moves the deal there; `onNote(text)` and `onEdit(field, value)` save and resolve to
 * the deal in full (the sheet is filled again), or reject with the server's reason, shown in place.
 * With several funnels, `onPipeline(pipeline, stage)` moves the deal to another funnel's stage.
 */
export function fillDetails(deal, { texts, stages, onMove, onNote, onEdit, onPipeline }) {
  if (!closeDetails) return;
  const title = $("sheet-title");
  title.textContent = deal.title;
  title.dir = "auto";
  title.hidden = false;
  const body = $("sheet-body");
  body.replaceChildren();
  const editing = deal.movable && onEdit;
  if (editing) {
    body.append(editor({
      name: "title", label: texts.edit_title, value: deal.title, texts, maxLength: 200,
      opener: $("sheet-edit-title"), hide: [title], onSave: (value) => onEdit("title", value),
    }));
  }
  $("sheet-edit-title").hidden = !editing;
  $("sheet-edit-title").setAttribute("aria-label", texts.edit_title || "");

  const stageLine = el("div", `stage-pill kind-${deal.stage.kind}`);
  stageLine.append(el("span", "dot"), el("span", "", [deal.stage.place, deal.stage.name].filter(Boolean).join(" ")));
  const top = el("div", "detail-top");
  top.append(stageLine);
  const amount = el(editing ? "button" : "div", "detail-amount", deal.amount_text || (editing ? texts.add_amount : ""));
  if (editing) {
    amount.type = "button";
    amount.classList.add("editable");
    amount.classList.toggle("placeholder-amount", !deal.amount_text);
    amount.setAttribute("aria-label", texts.edit_amount);
  }
  if (amount.textContent) top.append(amount);
  body.append(top);
  if (editing) {
    body.append(editor({
      name: "amount", label: texts.edit_amount, value: deal.amount || "", texts, inputMode: "decimal",
      maxLength: 40, opener: amount, hide: [top], onSave: (value) => onEdit("amount", value),
    }));
  }

  if (deal.movable) body.append(stagePicker(deal, stages, texts, onMove));
  if (deal.movable && onPipeline && deal.other_pipelines.length) body.append(pipelinePicker(deal, texts, onPipeline));
  else if (!deal.owner) body.append(el("p", "hint", texts.take_first));

  if (deal.movable && onNote) body.append(noteForm(texts, onNote));

  const facts = el("dl", "facts");
  const fact = (icon, text, href = null) => {
    if (!text) return;
    const dt = el("dt", "", icon);
    const dd = el("dd");
    if (href) {
      const link = el("a", "", text);
      link.href = href;
      link.dir = "ltr";
      dd.append(link);
    } else {
      dd.textContent = text;
    }
    dd.dir = "auto";
    facts.append(dt, dd);
  };
  if (deal.pipeline) fact("🧭", deal.pipeline.name);
  fact("👤", [deal.contact_name, deal.company].filter(Boolean).join(" · "));
  fact("📞", deal.phone, deal.phone ? `tel:${deal.phone.replace(/[^\d+]/g, "")}` : null);
  if (!editing) for (const field of deal.fields || []) if (field.filled) fact("▫️", `${field.name}: ${field.value}`);
  fact("🧑‍💼", deal.owner ? deal.owner.name : texts.nobody);
  if (!deal.closed) fact(deal.stale ? "⏰" : "⏱", fmt(texts.in_stage, { time: deal.in_stage }) + (deal.stale ? ` · ${texts.stale}` : ""));
  if (deal.lost_reason) fact("🚫", fmt(texts.reason, { reason: deal.lost_reason }));
  if (deal.next_task) fact(deal.next_task.overdue ? "⚠️" : "🗓", fmt(texts.next_task, { task: deal.next_task.text, when: deal.next_task.when }));
  if (deal.snoozed_until) fact("💤", fmt(texts.snoozed, { when: deal.snoozed_until }));
  fact("✨", fmt(texts.created, { when: deal.created }));
  body.append(facts);
  if (editing && deal.fields && deal.fields.length) body.append(fieldEditors(deal, texts, onEdit));
  if (deal.playbook) body.append(el("p", "playbook", `💡 ${deal.playbook}`));

  body.append(el("h3", "section-title", texts.history));
  const list = el("ol", "history");
  for (const line of deal.history) {
    const item = el("li");
    item.dataset.kind = line.kind;
    const meta = el("div", "history-meta", [line.when, line.who].filter(Boolean).join(" · "));
    const text = el("div", "history-text", line.text);
    text.dir = "auto";
    item.append(meta, text);
    list.append(item);
  }
  body.append(list);
}

/** Another funnel: a row of its open stages' chips per funnel, under the funnel's name. */
function pipelinePicker(deal, texts, onPipeline) {
  const section = el("section", "picker pipeline-picker");
  section.append(el("h3", "section-title", texts.another_funnel));
  const error = errorLine();
  for (const pipeline of deal.other_pipelines) {
    const name = el("div", "hint", pipeline.name);
    name.dir = "auto";
    const chips = el("div", "chips");
    chips.setAttribute("role", "group");
    chips.setAttribute("aria-label", pipeline.name);
    for (const stage of pipeline.stages) {
      const chip = el("button", `chip kind-${stage.kind}`);
      chip.type = "button";
      chip.dataset.pipelineId = pipeline.id;
      chip.dataset.stageId = stage.id;
      chip.append(el("span", "dot"), el("span", "", stage.name));
      chip.addEventListener("click", () => {
        error.hidden = true;
        onPipeline(pipeline, stage).catch((reason) => { error.textContent = reason.message; error.hidden = false; });
      });
      chips.append(chip);
    }
    section.append(name, chips);
  }
  section.append(error);
  return section;
}

/** A chip per stage, in the funnel's order: the deal's own marked, a closed deal's only way back offered. */
function stagePicker(deal, stages, texts, onMove) {
  const section = el("section", "picker");
  section.append(el("h3", "section-title", texts.move_to));
  const chips = el("div", "chips");
  chips.setAttribute("role", "group");
  chips.setAttribute("aria-label", texts.move_to);
  for (const stage of stages) {
    const here = stage.id === deal.stage_id;
    if (deal.closed && !here && stage.id !== deal.reopens_in) continue;
    const label = deal.closed && !here ? fmt(texts.reopen_in, { stage: stage.name }) : stage.name;
    const chip = el("button", `chip kind-${stage.kind}`);
    chip.type = "button";
    chip.dataset.stageId = stage.id;
    chip.append(el("span", "dot"), el("span", "", label));
    if (here) {
      chip.disabled = true;
      chip.setAttribute("aria-current", "true");
      chip.classList.add("here");
    } else {
      chip.addEventListener("click", () => onMove(stage));
    }
    chips.append(chip);
  }
  section.append(chips);
  return section;
}

function errorLine() {
  const line = el("p", "form-error");
  line.setAttribute("role", "alert");
  line.hidden = true;
  return line;
}

async function submitting(form, button, error, save) {
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  error.hidden = true;
  try {
    await save();
  } catch (failure) {
    error.textContent = failure.message || String(failure);
    error.hidden = false;
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

/** A note for the deal's history: a text box and its button. */
function noteForm(texts, onNote) {
  const form = el("form", "note-form");
  form.append(el("h3", "section-title", texts.note));
  const box = el("textarea");
  box.name = "note";
  box.rows = 2;
  box.maxLength = 3000;
  box.dir = "auto";
  box.placeholder = texts.note_hint;
  box.setAttribute("aria-label", texts.note);
  const save = el("button", "primary", texts.save_note);
  save.type = "submit";
  save.disabled = true;
  const error = errorLine();
  box.addEventListener("input", () => { save.disabled = !box.value.trim(); error.hidden = true; });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!box.value.trim()) return;
    submitting(form, save, error, () => onNote(box.value));
  });
  const row = el("div", "form-row");
  row.append(box, save);
  form.append(row, error);
  return form;
}

/** An editor for one field, hidden until `opener` is pressed; while it shows, `hide` does not. */
function editor({ name, label, value, texts, inputMode = "text", maxLength, opener, hide, onSave }) {
  const form = el("form", "edit-form");
  form.dataset.field = name;
  form.hidden = true;
  const input = el("input");
  input.name = name;
  input.value = value;
  input.maxLength = maxLength;
  input.dir = "auto";
  input.autocomplete = "off";
  input.inputMode = inputMode;
  input.setAttribute("aria-label", label);
  const save = el("button", "primary", texts.save);
  save.type = "submit";
  const cancel = el("button", "secondary", texts.cancel);
  cancel.type = "button";
  const error = errorLine();
  const toggle = (open) => {
    form.hidden = !open;
    for (const node of hide) node.hidden = open;
    if (open) {
      input.value = value;
      error.hidden = true;
      input.focus();
      input.select();
    }
  };
  opener.onclick = () => toggle(true);
  cancel.addEventListener("click", () => toggle(false));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, save, error, () => onSave(input.value));
  });
  const actions = el("div", "form-row");
  actions.append(cancel, save);
  form.append(el("label", "field-label", label), input, error, actions);
  return form;
}

/** The team's own fields, each a button that opens its editor (a choice offers its choices to type). */
function fieldEditors(deal, texts, onEdit) {
  const list = el("div", "own-fields");
  for (const field of deal.fields) {
    const line = el("button", "own-field editable", `▫️ ${field.name}: ${field.value}`);
    line.type = "button";
    line.dir = "auto";
    line.dataset.key = field.key;
    const form = editor({
      name: field.key, label: field.name, value: field.text, texts, maxLength: 500,
      opener: line, hide: [line], onSave: (value) => onEdit(field.key, value),
    });
    if (field.choices.length) {
      const options = el("datalist");
      options.id = `choices-${field.key}`;
      for (const choice of field.choices) options.append(Object.assign(el("option"), { value: choice }));
      form.querySelector("input").setAttribute("list", options.id);
      form.append(options);
    }
    list.append(line, form);
  }
  return list;
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
