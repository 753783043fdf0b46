// Toasts and modal forms for the chat page.

import { ControlError } from "./api.js";

const $ = (id) => document.getElementById(id);

let toastTimer = null;
export function toast(text, ms = 2600) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, ms);
}

/** A modal form; resolves to the field values, or null when cancelled. */
export function ask({ title, text = "", fields = [], ok = "OK", cancel = true }) {
  const dialog = $("dialog");
  $("dialog-title").textContent = title;
  const body = $("dialog-body");
  body.replaceChildren();
  if (text) {
    const p = document.createElement("p");
    p.textContent = text;
    body.appendChild(p);
  }
  for (const field of fields) {
    const label = document.createElement("label");
    label.textContent = field.label;
    const input = document.createElement("input");
    Object.assign(input, { name: field.name, value: field.value ?? "", type: field.type || "text" });
    if (field.placeholder) input.placeholder = field.placeholder;
    if (field.required) input.required = true;
    input.setAttribute("dir", "auto");
    label.appendChild(input);
    body.appendChild(label);
  }
  $("dialog-ok").textContent = ok;
  $("dialog-cancel").hidden = !cancel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "ok") return resolve(null);
      const values = {};
      for (const input of body.querySelectorAll("input")) values[input.name] = input.value.trim();
      resolve(values);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    const first = body.querySelector("input");
    if (first) first.focus();
  });
}

export function showError(error) {
  const text = error instanceof ControlError ? error.message : String(error);
  toast(`⚠ ${text}`, 4000);
}
