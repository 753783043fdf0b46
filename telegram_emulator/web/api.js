// The emulator's control API, as the page (and page extensions) call it.

export class ControlError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ControlError(response.status, data);
  return data;
}

export const api = {
  get: (path) => call("GET", path),
  post: (path, body = {}) => call("POST", path, body),
  del: (path) => call("DELETE", path),

  withBot(path, botId) {
    if (botId == null) return path;
    return path + (path.includes("?") ? "&" : "?") + "bot_id=" + encodeURIComponent(botId);
  },
};
