// Links a Telegram client treats specially.

/** The start payload of a t.me link to this very bot, or null for any other link. */
export function deepLinkPayload(url, botUsername) {
  let parsed;
  try { parsed = new URL(url); } catch { return null; }
  const host = parsed.hostname.toLowerCase();
  if (!["t.me", "telegram.me", "www.t.me"].includes(host) || !botUsername) return null;
  if (parsed.pathname.replace(/\/$/, "").toLowerCase() !== `/${botUsername.toLowerCase()}`) return null;
  return parsed.searchParams.has("start") ? parsed.searchParams.get("start") : null;
}
