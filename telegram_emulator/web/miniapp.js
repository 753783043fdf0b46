// Mini Apps, opened as Telegram opens them: a sheet over the chat on a phone, a large window on a
// desktop, with an iframe whose URL carries launch data the emulator signed with the bot's token.
// The app talks to its "client" with Telegram's web protocol: postMessage({eventType, eventData}).

import { api } from "./api.js";
import { showError } from "./ui.js";

const LIGHT = {
  bg_color: "#ffffff", secondary_bg_color: "#eff1f5", text_color: "#15202b", hint_color: "#6b7a89",
  link_color: "#2f7ff0", button_color: "#2f7ff0", button_text_color: "#ffffff", header_bg_color: "#ffffff",
  accent_text_color: "#2f7ff0", section_bg_color: "#ffffff", section_header_text_color: "#2f7ff0",
  subtitle_text_color: "#6b7a89", destructive_text_color: "#e5484d",
};
const DARK = {
  bg_color: "#17212b", secondary_bg_color: "#0e1621", text_color: "#f5f5f5", hint_color: "#708499",
  link_color: "#6ab3f3", button_color: "#5288c1", button_text_color: "#ffffff", header_bg_color: "#17212b",
  accent_text_color: "#6ab2f2", section_bg_color: "#17212b", section_header_text_color: "#6ab3f3",
  subtitle_text_color: "#708499", destructive_text_color: "#ec3942",
};

const current = { frame: null, origin: null, root: null, events: [] };

export const miniAppEvents = current.events;

function theme() {
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? DARK : LIGHT;
}

function build() {
  const root = document.createElement("div");
  root.className = "miniapp";
  root.hidden = true;
  root.innerHTML = `
    <div class="miniapp-backdrop"></div>
    <section class="miniapp-window" role="dialog" aria-modal="true" aria-labelledby="miniapp-title">
      <header class="miniapp-head">
        <button type="button" class="miniapp-back" aria-label="Back" hidden>
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="currentColor" d="M15.4 5.4 14 4l-8 8 8 8 1.4-1.4L8.8 12z"/></svg>
        </button>
        <button type="button" class="miniapp-close">Close</button>
        <div class="miniapp-title"><strong id="miniapp-title"></strong><span class="miniapp-sub">mini app</span></div>
        <button type="button" class="miniapp-reload" aria-label="Reload" title="Reload">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M19.5 12a7.5 7.5 0 1 1-2.2-5.3"/><path d="M19.5 4.5v4.2h-4.2"/></svg>
        </button>
      </header>
      <div class="miniapp-body">
        <div class="miniapp-loading" aria-hidden="true"></div>
      </div>
    </section>`;
  root.querySelector(".miniapp-backdrop").addEventListener("click", closeMiniApp);
  root.querySelector(".miniapp-close").addEventListener("click", closeMiniApp);
  root.querySelector(".miniapp-back").addEventListener("click", () => send("back_button_pressed"));
  root.querySelector(".miniapp-reload").addEventListener("click", () => {
    if (current.frame) current.frame.src = current.frame.src;
  });
  document.body.appendChild(root);
  window.addEventListener("message", receive);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    send("theme_changed", { theme_params: theme() });
  });
  return root;
}

function send(eventType, eventData = {}) {
  if (!current.frame || !current.frame.contentWindow) return;
  current.frame.contentWindow.postMessage(JSON.stringify({ eventType, eventData }), current.origin);
}

function receive(event) {
  if (!current.frame || event.source !== current.frame.contentWindow) return;
  let message;
  try { message = typeof event.data === "string" ? JSON.parse(event.data) : event.data; } catch { return; }
  if (!message || typeof message.eventType !== "string") return;
  const { eventType, eventData = {} } = message;
  current.events.push(eventType);
  if (current.events.length > 100) current.events.shift();
  const root = current.root;
  switch (eventType) {
    case "web_app_ready":
      root.classList.add("ready");
      break;
    case "web_app_close":
      closeMiniApp();
      break;
    case "web_app_setup_back_button":
      root.querySelector(".miniapp-back").hidden = !eventData.is_visible;
      root.querySelector(".miniapp-close").hidden = Boolean(eventData.is_visible);
      break;
    case "web_app_request_theme":
      send("theme_changed", { theme_params: theme() });
      break;
    case "web_app_request_viewport": {
      const height = current.frame.getBoundingClientRect().height;
      send("viewport_changed", { height, width: current.frame.getBoundingClientRect().width, is_expanded: true, is_state_stable: true });
      break;
    }
    case "web_app_open_link":
      if (/^https?:\/\//.test(eventData.url || "")) window.open(eventData.url, "_blank", "noopener");
      break;
    default:
      break; // haptics, swipe behaviour, main button...: nothing to show on a page
  }
}

/** Open `url` as `user` would from `bot`'s chat: launch data signed by the emulator, in the hash. */
export async function openMiniApp(url, { user, bot, button } = {}) {
  if (!user || !bot) return;
  let launch;
  try {
    launch = await api.post("/emulator/webapp/launch", { user_id: user, bot_id: bot.id, url, theme_params: theme() });
  } catch (error) {
    return showError(error);
  }
  const root = current.root || (current.root = build());
  root.querySelector("#miniapp-title").textContent = bot.first_name;  // Telegram names the bot, not the button
  root.querySelector(".miniapp-back").hidden = true;
  root.querySelector(".miniapp-close").hidden = false;
  root.classList.remove("ready");
  const frame = document.createElement("iframe");
  frame.className = "miniapp-frame";
  frame.title = (button && button.text) || "Mini App";
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-modals");
  frame.setAttribute("allow", "clipboard-write");
  frame.src = launch.url;
  root.querySelector(".miniapp-body").querySelector("iframe")?.remove();
  root.querySelector(".miniapp-body").appendChild(frame);
  current.frame = frame;
  current.origin = new URL(launch.url).origin;
  current.events.length = 0;
  root.hidden = false;
  requestAnimationFrame(() => root.classList.add("open"));
}

export function closeMiniApp() {
  const root = current.root;
  if (!root || root.hidden) return;
  root.classList.remove("open");
  setTimeout(() => {
    if (root.classList.contains("open")) return;
    root.hidden = true;
    current.frame?.remove();
    current.frame = null;
  }, 200);
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && current.root && !current.root.hidden) closeMiniApp();
});
