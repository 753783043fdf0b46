// The chat page: pick a user, talk to the bot, press its buttons. It only uses the control API.

import { api, ControlError } from "./api.js";
import { deepLinkPayload } from "./links.js";
import { miniAppEvents, openMiniApp } from "./miniapp.js";
import { renderMessage } from "./render.js";
import { ask, showError, toast } from "./ui.js";

const POLL_MS = 700;
const USER_KEY = "kanbot-emulator-user";
const BOT_KEY = "kanbot-emulator-bot";
const DEFAULT_USER = { id: 1001, first_name: "Alex", username: "alex", language_code: "en" };

const $ = (id) => document.getElementById(id);
const state = {
  bots: [],
  botId: Number(localStorage.getItem(BOT_KEY)) || null,
  users: [],
  userId: Number(localStorage.getItem(USER_KEY)) || null,
  chat: null,
  messages: [],
  rows: new Map(),
  listeners: [],
  webAppHandler: defaultWebAppHandler,
  timer: null,
  defaultUserCreated: false,
};

const withBot = (path) => api.withBot(path, state.botId);
const currentBot = () => state.bots.find((bot) => bot.id === state.botId) || null;

// --- links, deep links and Mini Apps ----------------------------------------------------------

function openLink(url) {
  const bot = currentBot();
  const payload = deepLinkPayload(url, bot && bot.username);
  if (payload !== null) return sendText(payload ? `/start ${payload}` : "/start");
  window.open(url, "_blank", "noopener");
}

function defaultWebAppHandler(url, context) {
  return openMiniApp(url, context);
}

/**
 * The hook for web_app buttons (inline and reply keyboards, the menu button): receives the button's
 * url and { button, message, user, bot }. By default it opens the Mini App in a sheet, with launch
 * data signed by the emulator; extensions replace it with page.setWebAppHandler(fn).
 */
export function openWebApp(url, context = {}) {
  return state.webAppHandler(url, { user: state.userId, bot: currentBot(), ...context });
}

// --- what the user does -----------------------------------------------------------------------

export async function sendText(text) {
  if (!text || !state.userId) return;
  try {
    await api.post("/emulator/messages", { user_id: state.userId, text, bot_id: state.botId });
    await refresh();
  } catch (error) { showError(error); }
}

async function sendContact(button) {
  const user = state.users.find((u) => u.id === state.userId) || {};
  const values = await ask({
    title: "Share your phone number",
    text: `The bot asks for your contact (“${button.text}”).`,
    fields: [{ name: "phone", label: "Phone number", type: "tel", placeholder: "+1 555 0100", required: true }],
    ok: "Share",
  });
  if (!values || !values.phone) return;
  const contact = { phone_number: values.phone, first_name: user.first_name };
  try {
    await api.post("/emulator/messages", { user_id: state.userId, contact, bot_id: state.botId });
    await refresh();
  } catch (error) { showError(error); }
}

async function waitForAnswer(queryId) {
  for (let i = 0; i < 60; i += 1) {
    await new Promise((r) => setTimeout(r, 250));
    try {
      return await api.get(`/emulator/callback_answers/${queryId}`);
    } catch (error) {
      if (!(error instanceof ControlError) || error.status !== 404) throw error;
    }
  }
  return null;
}

async function pressInline(message, button) {
  if ("url" in button) return openLink(button.url);
  if ("web_app" in button) return openWebApp(button.web_app.url, { button, message });
  if (!("callback_data" in button)) return toast("This kind of button is not emulated");
  try {
    const body = { user_id: state.userId, message_id: message.message_id, button: button.text, bot_id: state.botId };
    const { callback_query_id: queryId } = await api.post("/emulator/clicks", body);
    refresh();
    const answer = await waitForAnswer(queryId);
    if (!answer) return toast("The bot did not answer the button press");
    if (answer.url) openLink(answer.url);
    if (answer.text && answer.show_alert) await ask({ title: currentBot()?.first_name || "Bot", text: answer.text, cancel: false });
    else if (answer.text) toast(answer.text);
  } catch (error) { showError(error); }
}

function pressReply(button) {
  if (button.request_contact) return sendContact(button);
  if (button.web_app) return openWebApp(button.web_app.url, { button });
  if (button.request_location || button.request_poll || button.request_users || button.request_chat) {
    return toast("That request button is not emulated; sending its text");
  }
  return sendText(button.text);
}

// --- rendering --------------------------------------------------------------------------------

function renderMessages(messages) {
  const box = $("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  let previous = null;
  let added = false;
  const seen = new Set();
  for (const message of messages) {
    const entry = state.rows.get(message.message_id);
    if (message.deleted) continue;
    seen.add(message.message_id);
    const key = JSON.stringify(message);
    if (!entry || entry.key !== key) {
      const row = renderMessage(message, { onButton: pressInline });
      if (entry) entry.row.replaceWith(row);
      else if (previous) previous.after(row);
      else box.prepend(row);
      added = added || !entry;
      state.rows.set(message.message_id, { key, row });
      for (const img of row.querySelectorAll("img")) {
        img.addEventListener("load", () => { if (nearBottom) box.scrollTop = box.scrollHeight; });
      }
    }
    previous = state.rows.get(message.message_id).row;
  }
  for (const [id, entry] of state.rows) {
    if (!seen.has(id)) { entry.row.remove(); state.rows.delete(id); }
  }
  if (added) box.scrollTop = box.scrollHeight;
}

function renderEmpty() {
  const noBot = !state.botId;
  $("empty").hidden = !noBot && state.rows.size > 0;
  $("empty-no-bot").hidden = !noBot;
  $("empty-no-messages").hidden = noBot;
}

function renderKeyboard(chat) {
  const box = $("reply-keyboard");
  const markup = chat && chat.keyboard;
  const key = JSON.stringify(markup || null);
  if (box.dataset.key === key) return; // unchanged: keep the buttons (and a click in progress)
  box.dataset.key = key;
  box.replaceChildren();
  box.hidden = !markup;
  $("text").placeholder = (markup && markup.input_field_placeholder) || "Message";
  if (!markup) return;
  for (const buttons of markup.keyboard) {
    const row = document.createElement("div");
    row.className = "reply-row";
    for (const button of buttons) {
      const node = document.createElement("button");
      node.type = "button";
      node.className = "reply-button" + (button.request_contact ? " kind-contact" : "") + (button.web_app ? " kind-web-app" : "");
      node.textContent = button.text;
      node.setAttribute("dir", "auto");
      node.addEventListener("click", () => pressReply(button));
      row.appendChild(node);
    }
    box.appendChild(row);
  }
}

function renderMenuButton(chat) {
  const node = $("menu-button");
  const menu = chat && chat.menu_button;
  const webApp = menu && menu.type === "web_app" && menu.web_app ? menu : null;
  node.hidden = !webApp;
  if (!webApp) return;
  node.textContent = webApp.text;
  node.onclick = () => openWebApp(webApp.web_app.url, { button: webApp });
}

function renderHeader(chat) {
  const bot = currentBot();
  const select = $("bot-select");
  select.hidden = state.bots.length < 2;
  $("bot-name").hidden = state.bots.length >= 2;
  const options = state.bots.map((b) => `${b.id}:${b.first_name}`).join("|");
  if (select.dataset.options !== options) {
    select.replaceChildren(...state.bots.map((b) => new Option(`${b.first_name} (@${b.username})`, b.id)));
    select.dataset.options = options;
  }
  select.value = state.botId ?? "";
  $("bot-name").textContent = bot ? bot.first_name : "Waiting for a bot…";
  $("bot-avatar").textContent = bot ? bot.first_name.trim().charAt(0).toUpperCase() : "?";
  const typing = chat && chat.action === "typing" ? "typing…" : chat && chat.action ? "sending a file…" : null;
  $("bot-status").textContent = bot ? typing || `@${bot.username} · bot` : "not connected";
  $("bot-status").classList.toggle("typing", Boolean(typing));
  $("fact-bot").textContent = bot ? `@${bot.username}` : "—";
  $("fact-bot-id").textContent = bot ? `${bot.id}${bot.webhook ? " · webhook" : " · polling"}` : "—";
  $("fact-pending").textContent = bot ? `${bot.pending_update_count} update(s)` : "—";
  const user = state.users.find((u) => u.id === state.userId);
  $("fact-user").textContent = user ? `${user.first_name} · id ${user.id}` : "—";
  const blocked = Boolean(chat && chat.blocked);
  $("blocked-bar").hidden = !blocked;
  $("composer").hidden = blocked;
  $("block").textContent = blocked ? "Unblock the bot" : "Block the bot";
  $("block").disabled = !bot || !state.userId;
  for (const control of $("composer").elements) control.disabled = !bot || !state.userId;
}

function renderUsers() {
  const select = $("user-select");
  const options = state.users.map((u) => `${u.id}:${u.first_name}`).join("|");
  if (select.dataset.options !== options) {
    select.replaceChildren(...state.users.map((u) => new Option(`${u.first_name}${u.username ? " @" + u.username : ""}`, u.id)));
    select.dataset.options = options;
  }
  select.value = state.userId ?? "";
}

// --- the refresh loop -------------------------------------------------------------------------

async function loadUsers() {
  state.users = await api.get("/emulator/users");
  if (!state.users.length && !state.defaultUserCreated) {
    // A newcomer's first visit: someone to be, so they can just type. Only once per page load.
    state.defaultUserCreated = true;
    state.users = [await api.post("/emulator/users", DEFAULT_USER)];
  }
  if (!state.users.length) {
    state.userId = null;
    clearChat();
    return renderUsers();
  }
  if (!state.users.some((u) => u.id === state.userId)) selectUser(state.users[0].id);
  renderUsers();
}

async function loadChat() {
  if (!state.botId || !state.userId) return { chat: null, messages: [] };
  const [chat, messages] = await Promise.all([
    api.get(withBot(`/emulator/chats/${state.userId}`)),
    api.get(withBot(`/emulator/chats/${state.userId}/messages`)),
  ]);
  return { chat, messages };
}

export async function refresh() {
  try {
    state.bots = await api.get("/emulator/bots");
    if (!state.bots.some((b) => b.id === state.botId)) {
      state.botId = state.bots.length ? state.bots[state.bots.length - 1].id : null;
      clearChat();
    }
    await loadUsers();
    const { chat, messages } = await loadChat();
    state.chat = chat;
    state.messages = messages;
    renderHeader(chat);
    renderMessages(messages);
    renderKeyboard(chat);
    renderMenuButton(chat);
    renderEmpty();
    document.body.classList.remove("offline");
    for (const listener of state.listeners) {
      try { listener(page.snapshot()); } catch (error) { console.error(error); }
    }
  } catch (error) {
    document.body.classList.add("offline");
    $("bot-status").textContent = "emulator unreachable";
    console.warn(error);
  }
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => { await refresh(); schedule(); }, POLL_MS);
}

function clearChat() {
  for (const entry of state.rows.values()) entry.row.remove();
  state.rows.clear();
}

function selectUser(id) {
  state.userId = id;
  localStorage.setItem(USER_KEY, String(id));
  clearChat();
}

async function createUser() {
  const id = Math.max(1000, ...state.users.map((u) => u.id)) + 1;
  const values = await ask({
    title: "New user",
    fields: [
      { name: "first_name", label: "First name", required: true, placeholder: "Maria" },
      { name: "username", label: "Username (optional)", placeholder: "maria" },
      { name: "language_code", label: "Language (optional)", placeholder: "en", value: "en" },
      { name: "id", label: "Telegram id", type: "number", value: String(id), required: true },
    ],
    ok: "Create",
  });
  if (!values) return;
  try {
    const user = await api.post("/emulator/users", {
      id: Number(values.id), first_name: values.first_name,
      username: values.username || undefined, language_code: values.language_code || undefined,
    });
    selectUser(user.id);
    await refresh();
  } catch (error) { showError(error); }
}

async function toggleBlock() {
  const blocked = Boolean(state.chat && state.chat.blocked);
  try {
    await api.post(`/emulator/users/${state.userId}/${blocked ? "unblock" : "block"}`, { bot_id: state.botId });
    await refresh();
  } catch (error) { showError(error); }
}

// --- the page as extensions see it ------------------------------------------------------------

export const page = {
  api,
  toast,
  sendText,
  openWebApp,
  refresh,
  get userId() { return state.userId; },
  get botId() { return state.botId; },
  get bot() { return currentBot(); },
  /** The events the open Mini App sent its client (web_app_ready, web_app_close...), oldest first. */
  get miniAppEvents() { return [...miniAppEvents]; },
  snapshot() {
    return { userId: state.userId, bot: currentBot(), chat: state.chat, messages: state.messages };
  },
  /** Add a titled panel beside the chat; returns the element to fill. */
  addPanel(title) {
    const section = document.createElement("section");
    section.className = "panel";
    const heading = document.createElement("h2");
    heading.textContent = title;
    const body = document.createElement("div");
    body.className = "panel-body";
    section.append(heading, body);
    $("panels").appendChild(section);
    return body;
  },
  /** Call `listener(snapshot)` after every refresh of the chat. */
  onRefresh(listener) { state.listeners.push(listener); },
  /** Replace what web_app buttons do: `handler(url, { button, message, user, bot })`. */
  setWebAppHandler(handler) { state.webAppHandler = handler; },
};
window.kanbotEmulator = page;

async function loadExtensions() {
  const { page_extensions: urls } = await api.get("/emulator/config");
  for (const url of urls) {
    try {
      const module = await import(url);
      if (typeof module.default === "function") await module.default(page);
    } catch (error) {
      console.error(`page extension ${url} failed`, error);
      toast(`Extension ${url} failed to load`);
    }
  }
}

function wire() {
  $("connect-hint").textContent =
    `aiogram: TelegramAPIServer.from_base("${location.origin}") · ` +
    `python-telegram-bot: base_url("${location.origin}/bot"), base_file_url("${location.origin}/file/bot")`;
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value.trim();
    input.value = "";
    sendText(text);
  });
  $("user-select").addEventListener("change", (event) => { selectUser(Number(event.target.value)); refresh(); });
  $("bot-select").addEventListener("change", (event) => {
    state.botId = Number(event.target.value);
    localStorage.setItem(BOT_KEY, String(state.botId));
    clearChat();
    refresh();
  });
  $("new-user").addEventListener("click", createUser);
  $("start").addEventListener("click", () => sendText("/start"));
  $("block").addEventListener("click", toggleBlock);
  $("panels-toggle").addEventListener("click", () => {
    const open = document.body.classList.toggle("panels-open");
    $("panels-toggle").setAttribute("aria-expanded", String(open));
  });
  $("unblock").addEventListener("click", toggleBlock);
  $("messages").addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || link.classList.contains("document")) return;
    event.preventDefault();
    openLink(link.href);
  });
}

wire();
await loadExtensions().catch((error) => console.warn(error));
await refresh();
schedule();
