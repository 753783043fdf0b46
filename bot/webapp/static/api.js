// The board's API, called with Telegram's launch data as the credential.

import { launch } from "./telegram.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body) {
  const headers = { Authorization: `tma ${launch.initData}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "");
  }
  let data = null;
  try { data = await response.json(); } catch { /* not JSON: a proxy's error page */ }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "http", error.message || `HTTP ${response.status}`);
  }
  return data;
}

// Relative paths: the page is /app/board, so these are /app/api/... wherever Kanbot is mounted.
export const api = {
  board: (seller, pipeline) => {
    const query = new URLSearchParams();
    if (seller) query.set("seller", seller);
    if (pipeline) query.set("pipeline", pipeline);
    return call("GET", "api/board" + (query.size ? `?${query}` : ""));
  },
  deal: (id) => call("GET", `api/deals/${encodeURIComponent(id)}`),
  move: (id, body) => call("POST", `api/deals/${encodeURIComponent(id)}/move`, body),
  note: (id, body) => call("POST", `api/deals/${encodeURIComponent(id)}/notes`, body),
  edit: (id, body) => call("POST", `api/deals/${encodeURIComponent(id)}/edit`, body),
  pipeline: (id, body) => call("POST", `api/deals/${encodeURIComponent(id)}/pipeline`, body),
};
