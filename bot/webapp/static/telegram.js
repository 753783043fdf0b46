// Talking to the Telegram client that opened the page, without telegram-web-app.js (works offline too).
// Launch data comes from window.Telegram.WebApp when that script is there, else from the URL's hash,
// where every Telegram client (and the Kanbot emulator) puts it: #tgWebAppData=...&tgWebAppThemeParams=...
// Events go out through the client's bridge: TelegramWebviewProxy (mobile, desktop) or postMessage
// to the parent frame (web clients, the emulator); they come back through Telegram.WebView.receiveEvent
// or a message from the parent frame.

const hash = new URLSearchParams(location.hash.slice(1));

function parseJson(text) {
  try { return text ? JSON.parse(text) : null; } catch { return null; }
}

export const launch = {
  initData: window.Telegram?.WebApp?.initData || hash.get("tgWebAppData") || "",
  version: hash.get("tgWebAppVersion") || "",
  platform: hash.get("tgWebAppPlatform") || "unknown",
  themeParams: window.Telegram?.WebApp?.themeParams || parseJson(hash.get("tgWebAppThemeParams")) || {},
};

const listeners = new Map();

export function on(eventType, listener) {
  if (!listeners.has(eventType)) listeners.set(eventType, new Set());
  listeners.get(eventType).add(listener);
}

function receive(eventType, eventData) {
  for (const listener of listeners.get(eventType) || []) {
    try { listener(eventData || {}); } catch (error) { console.error(error); }
  }
}

window.Telegram = window.Telegram || {};
if (!window.Telegram.WebView) window.Telegram.WebView = { receiveEvent: receive };
window.addEventListener("message", (event) => {
  if (event.source !== window.parent || typeof event.data !== "string") return;
  const message = parseJson(event.data);
  if (message && typeof message.eventType === "string") receive(message.eventType, message.eventData);
});

export const insideTelegram = Boolean(window.TelegramWebviewProxy || window.parent !== window);

export function postEvent(eventType, eventData = {}) {
  try {
    if (window.TelegramWebviewProxy?.postEvent) {
      window.TelegramWebviewProxy.postEvent(eventType, JSON.stringify(eventData));
    } else if (window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType, eventData }), "*");
    }
  } catch (error) {
    console.warn("Telegram bridge:", error);
  }
}

const COLOR = /^#[0-9a-f]{3,8}$/i;

/** Telegram's theme as CSS variables (--tg-theme-bg-color, ...), like telegram-web-app.js sets them. */
export function applyTheme(params) {
  const root = document.documentElement;
  let dark = null;
  for (const [key, value] of Object.entries(params || {})) {
    if (typeof value !== "string" || !COLOR.test(value)) continue;
    root.style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
    if (key === "bg_color") dark = luminance(value) < 0.4;
  }
  if (dark !== null) root.dataset.scheme = dark ? "dark" : "light";
}

function luminance(hex) {
  let digits = hex.slice(1);
  if (digits.length === 3) digits = [...digits].map((d) => d + d).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export const haptic = {
  impact(style = "medium") { postEvent("web_app_trigger_haptic_feedback", { type: "impact", impact_style: style }); },
  notify(kind) { postEvent("web_app_trigger_haptic_feedback", { type: "notification", notification_type: kind }); },
  select() { postEvent("web_app_trigger_haptic_feedback", { type: "selection_change" }); },
};

export function backButton(visible) {
  postEvent("web_app_setup_back_button", { is_visible: visible });
}

/** Tell the client the page is ready, take the full height, and keep vertical drags for the board. */
export function start() {
  applyTheme(launch.themeParams);
  on("theme_changed", ({ theme_params: params }) => applyTheme(params));
  postEvent("web_app_ready");
  postEvent("web_app_expand");
  postEvent("web_app_setup_swipe_behavior", { allow_vertical_swipe: false });
  postEvent("web_app_request_theme");
}
