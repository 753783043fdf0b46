// The demo PBX panel: simulate calls to the company's main line. The buttons post to the demo's
// /demo/calls route, which sends Kanbot signed CallEvents exactly as a real PBX does.

const STYLE_URL = new URL("./telephony.css", import.meta.url).href;

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function field(label, control) {
  return element("label", { class: "demo-pbx-field" }, element("span", { text: label }), control);
}

/** Switch the chat to another user, as if picked in the header (the page has no API for it). */
function openChatOf(userId) {
  const select = document.getElementById("user-select");
  if (!select) return;
  select.value = String(userId);
  select.dispatchEvent(new Event("change"));
}

export default async function setup(page) {
  document.head.append(element("link", { rel: "stylesheet", href: STYLE_URL }));
  const body = page.addPanel("Telephony (demo PBX)");
  body.classList.add("demo-pbx");

  const caller = element("input", {
    name: "caller", inputmode: "tel", dir: "ltr", autocomplete: "off", required: "", maxlength: "40",
    "aria-label": "Caller's number",
  });
  const customer = element("select", { name: "customer", "aria-label": "An existing customer" });
  const extension = element("select", { name: "extension", "aria-label": "Extension that rings" });
  const answered = element("button", { type: "submit", value: "answered", class: "primary", text: "📞 Simulate an incoming call" });
  const missed = element("button", { type: "submit", value: "missed", text: "❗ Simulate a missed call" });
  const result = element("div", { class: "demo-pbx-result", role: "status" });
  result.hidden = true;
  const hint = element("p", { class: "demo-pbx-hint" });
  const form = element(
    "form", { autocomplete: "off" },
    hint,
    field("Caller", caller),
    field("…or an existing customer", customer),
    field("Rings at", extension),
    element("div", { class: "demo-pbx-actions" }, answered, missed),
    result,
  );
  body.append(form);

  let config = { sellers: [], customers: [], new_number: "" };
  let lastUser = null;

  async function load() {
    try {
      config = await page.api.get("/demo/config");
    } catch (error) {
      hint.textContent = `The demo PBX is not answering: ${error.message}`;
      return;
    }
    hint.textContent = `Calls to the main line ${config.main_line} reach Kanbot the way a real PBX reports them.`;
    const keep = extension.value;
    extension.replaceChildren(
      ...config.sellers.map((s) => new Option(`${s.name} · ext ${s.extension}`, s.extension)),
    );
    if (keep) extension.value = keep;
    customer.replaceChildren(
      new Option("— a new caller —", ""),
      ...config.customers.map((c) => new Option(`${c.deal} · ${c.name || c.phone}`, c.phone)),
    );
    caller.value = config.new_number;
    followUser(page.userId, true);
  }

  /** Ring the extension of the seller whose chat is open (the boss's chat keeps the choice). */
  function followUser(userId, force = false) {
    if (userId === lastUser && !force) return;
    lastUser = userId;
    const seller = config.sellers.find((s) => s.telegram_id === userId);
    if (seller) extension.value = seller.extension;
  }

  customer.addEventListener("change", () => {
    caller.value = customer.value || config.new_number;
  });
  caller.addEventListener("input", () => { customer.value = ""; });
  page.onRefresh(({ userId }) => {
    followUser(userId);
    const open = result.querySelector("button.link");
    if (open && Number(open.dataset.userId) === userId) open.remove();  // that chat is open now
  });

  function show(text, { error = false, sellerId = null, sellerName = "" } = {}) {
    result.hidden = false;
    result.classList.toggle("error", error);
    result.replaceChildren(element("p", { text }));
    if (sellerId && sellerId !== page.userId) {
      const open = element("button", {
        type: "button", class: "link", text: `Open ${sellerName}'s chat`, "data-user-id": String(sellerId),
      });
      open.addEventListener("click", () => openChatOf(sellerId));
      result.append(open);
    }
  }

  async function hangUpLater(call, target = result) {
    await new Promise((resolve) => setTimeout(resolve, (call.talk_s + 1.5) * 1000));
    try {
      const state = await page.api.get(`/demo/calls/${call.call_id}`);
      const line = state.state === "ended"
        ? `The call ended after ${state.duration_s} s.`
        : `The call did not end cleanly: ${state.error || state.state}.`;
      target.append(element("p", { class: "demo-pbx-later", text: line }));
    } catch (error) {
      target.append(element("p", { class: "demo-pbx-later", text: `The call's end is unknown: ${error.message}` }));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const kind = event.submitter ? event.submitter.value : "answered";
    answered.disabled = missed.disabled = true;
    try {
      const call = await page.api.post("/demo/calls", { kind, caller: caller.value, extension: extension.value });
      show(call.message, { sellerId: call.seller_telegram_id, sellerName: call.seller });
      page.refresh();
      if (call.kind === "answered") hangUpLater(call);
      await load();
    } catch (error) {
      show(error.message, { error: true });
    } finally {
      answered.disabled = missed.disabled = false;
    }
  });

  // Calls placed from the cards ("📞 Call"): the seller's phone rings here; "Pick up" connects it.
  const placed = element("div", { class: "demo-pbx-placed", "aria-live": "polite" });
  body.append(placed);
  const shown = new Set();

  async function pollPlaced() {
    let calls = [];
    try {
      ({ calls } = await page.api.get("/demo/placed"));
    } catch (error) {
      return;
    }
    const ringing = new Set(calls.map((c) => c.call_id));
    for (const node of [...placed.children]) {
      if (!ringing.has(node.dataset.callId) && !node.classList.contains("done")) node.remove();
    }
    for (const call of calls) {
      if (shown.has(call.call_id)) continue;
      shown.add(call.call_id);
      const who = call.customer ? `${call.customer} (${call.phone})` : call.phone;
      const line = element("p", { text: `📞 ${call.seller}'s phone (ext ${call.extension}) rings: a call to ${who} placed from the card.` });
      const pick = element("button", { type: "button", class: "primary", text: `Pick up as ${call.seller}` });
      const item = element("div", { class: "demo-pbx-result", "data-call-id": call.call_id }, line, pick);
      pick.addEventListener("click", async () => {
        pick.disabled = true;
        try {
          const answer = await page.api.post(`/demo/placed/${call.call_id}/pick-up`, {});
          item.classList.add("done");
          item.replaceChildren(element("p", { text: answer.message }));
          page.refresh();
          hangUpLater({ ...answer, call_id: call.call_id }, item);
        } catch (error) {
          item.classList.add("error");
          item.append(element("p", { text: error.message }));
        }
      });
      placed.prepend(item);
    }
  }
  setInterval(pollPlaced, 1500);

  await load();
}
