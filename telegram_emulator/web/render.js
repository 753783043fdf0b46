// Messages as DOM: only Telegram's formatting tags survive, whatever the HTML says.

const TAGS = {
  B: "b", STRONG: "b", I: "i", EM: "i", U: "u", INS: "u", S: "s", STRIKE: "s", DEL: "s",
  CODE: "code", PRE: "pre", A: "a", BLOCKQUOTE: "blockquote", "TG-SPOILER": "span", SPAN: "span",
  "TG-EMOJI": "span",
};
const SAFE_LINK = /^(https?:|tg:|mailto:)/i;
const DROPPED = new Set(["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT", "EMBED", "NOSCRIPT"]);

function cleanElement(source) {
  const tag = TAGS[source.tagName];
  if (!tag) return null;
  const element = document.createElement(tag);
  if (source.tagName === "A") {
    const href = source.getAttribute("href") || "";
    if (SAFE_LINK.test(href)) {
      element.setAttribute("href", href);
      element.setAttribute("target", "_blank");
      element.setAttribute("rel", "noopener noreferrer");
    }
  } else if (source.tagName === "CODE") {
    const match = /^language-([\w+#.-]{1,32})$/.exec(source.getAttribute("class") || "");
    if (match) element.dataset.language = match[1];
  } else if (source.tagName === "TG-SPOILER" || source.tagName === "SPAN") {
    element.className = "spoiler";
    element.title = "Spoiler: click to reveal";
  } else if (source.tagName === "BLOCKQUOTE" && source.hasAttribute("expandable")) {
    element.className = "expandable";
  }
  return element;
}

function copyClean(from, to) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.appendChild(document.createTextNode(node.textContent));
    } else if (node.nodeType === Node.ELEMENT_NODE && !DROPPED.has(node.tagName)) {
      const element = cleanElement(node);
      if (element) {
        copyClean(node, element);
        to.appendChild(element);
      } else {
        copyClean(node, to); // an unknown tag is dropped, its text kept
      }
    }
  }
}

/** Telegram HTML -> a safe DocumentFragment. */
export function sanitize(html) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const fragment = document.createDocumentFragment();
  copyClean(parsed.body, fragment);
  return fragment;
}

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text != null) element.textContent = text;
  return element;
}

function time(date) {
  return new Date(date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function buttonKind(button) {
  if ("callback_data" in button) return "callback";
  if ("url" in button) return "url";
  if ("web_app" in button) return "web-app";
  return "other";
}

/**
 * One message as a row: bubble (photo, audio, document, contact, text, meta) and its inline keyboard.
 * `onButton(message, button)` is called when an inline button is pressed.
 */
export function renderMessage(message, { onButton }) {
  const row = el("div", `message-row from-${message.from}`);
  row.dataset.messageId = message.message_id;
  const bubble = el("div", "bubble");
  bubble.setAttribute("dir", "auto");
  if (message.photo) {
    const img = el("img", "photo");
    img.src = message.photo;
    img.alt = message.caption || "Photo";
    img.loading = "lazy";
    bubble.appendChild(img);
    bubble.classList.add("has-photo");
  }
  if (message.audio) {
    const player = el("audio", "audio");
    player.controls = true;
    player.preload = "none";
    player.src = message.audio.url;
    player.title = message.audio.title || message.audio.name || "audio";
    bubble.appendChild(player);
  }
  if (message.document) {
    const doc = el("a", "document");
    doc.href = message.document.url;
    doc.target = "_blank";
    doc.rel = "noopener";
    doc.appendChild(el("span", "document-icon", "📄"));
    const info = el("span", "document-info");
    info.appendChild(el("span", "document-name", message.document.name || "document"));
    info.appendChild(el("span", "document-size", formatSize(message.document.size || 0)));
    doc.appendChild(info);
    bubble.appendChild(doc);
  }
  if (message.contact) {
    const card = el("div", "contact");
    card.appendChild(el("span", "contact-icon", "👤"));
    const name = [message.contact.first_name, message.contact.last_name].filter(Boolean).join(" ");
    card.appendChild(el("span", "contact-text", `${name}\n${message.contact.phone_number}`));
    bubble.appendChild(card);
  }
  if (message.html || message.text) {
    const text = el("div", "text");
    text.setAttribute("dir", "auto");
    text.appendChild(sanitize(message.html || ""));
    bubble.appendChild(text);
  }
  const meta = el("span", "meta", (message.edited ? "edited " : "") + time(message.date));
  bubble.appendChild(meta);
  row.appendChild(bubble);

  if (message.buttons && message.buttons.length) {
    const keyboard = el("div", "inline-keyboard");
    for (const buttons of message.buttons) {
      const line = el("div", "inline-row");
      for (const button of buttons) {
        const kind = buttonKind(button);
        const node = el("button", `inline-button kind-${kind}`, button.text);
        node.type = "button";
        node.setAttribute("dir", "auto");
        if (kind === "url") node.title = button.url;
        if (kind === "web-app") node.title = `Mini App: ${button.web_app.url}`;
        node.addEventListener("click", () => onButton(message, button));
        line.appendChild(node);
      }
      keyboard.appendChild(line);
    }
    row.appendChild(keyboard);
  }
  row.addEventListener("click", (event) => {
    const spoiler = event.target.closest(".spoiler");
    if (spoiler) spoiler.classList.add("revealed");
    const blockquote = event.target.closest("blockquote.expandable");
    if (blockquote) blockquote.classList.toggle("open");
  });
  return row;
}
