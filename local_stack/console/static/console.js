// Switchboard local console: plain JavaScript, no framework, nothing loaded from elsewhere.
// Every value from the stack is put on the page as text (textContent), never as HTML.
"use strict";

const BASE = "/_console";
const API = BASE + "/api";

// -- DOM helpers ---------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

function statusBadge(status, extra) {
  const text = String(status || "unknown");
  return h("span", { class: `badge s-${text.replace(/[^a-z]+/gi, "_")} ${extra || ""}` }, text);
}

function pad(n, width) { return String(n).padStart(width || 2, "0"); }

function timeText(iso, withDate) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}` : clock;
}

function timeEl(iso, withDate) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso, title: iso }, timeText(iso, withDate));
}

// Text is shown as the stack formatted it: it carries integers too large for JavaScript's numbers
// exactly (Viber's message tokens). Only small objects (a JWT's header and claims) are formatted here.
function codeBlock(value, label) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return h("pre", { tabindex: "0", "aria-label": label || "JSON" }, text);
}

function messageHref(uuid) { return `${BASE}/messages/${encodeURIComponent(uuid)}`; }

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

async function postJson(url, data) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(data),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

// Re-rendering keeps the keyboard focus, open <details> and the scroll position: elements that
// matter carry a data-key, and the element with the same key gets them back after the render.
function rerender(container, render) {
  const active = document.activeElement;
  const focusKey = active && container.contains(active) ? active.getAttribute("data-key") : null;
  const open = new Set([...container.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key));
  const scroll = window.scrollY;
  clear(container);
  render(container);
  for (const details of container.querySelectorAll("details[data-key]")) {
    if (open.has(details.dataset.key)) details.open = true;
  }
  if (focusKey) {
    const again = [...container.querySelectorAll("[data-key]")].find((el) => el.dataset.key === focusKey);
    if (again) again.focus({ preventScroll: true });
  }
  window.scrollTo(0, scroll);
}

// -- live updates --------------------------------------------------------------------------------

const live = {
  source: null,
  onChange: null,
  element: null,
  set(state, text) {
    this.element.dataset.state = state;
    this.element.textContent = text;
  },
  // A server-sent event stream: each answer is one "change" (or none), then EventSource reconnects.
  follow(version, onChange) {
    this.onChange = onChange;
    if (this.source) return;
    this.source = new EventSource(`${API}/events?since=${encodeURIComponent(version)}`);
    this.source.addEventListener("change", () => this.onChange());
    this.source.addEventListener("open", () => this.set("live", `Live · updated ${timeText(new Date().toISOString())}`));
    this.source.addEventListener("error", () => {
      if (this.source.readyState === EventSource.CLOSED) this.set("down", "Disconnected: reload the page");
    });
  },
  updated() {
    this.set("live", `Live · updated ${timeText(new Date().toISOString())}`);
  },
};

// Refreshes run one at a time; a change that arrives meanwhile runs one more afterwards.
function serialised(refresh) {
  let running = false;
  let again = false;
  return async function run() {
    if (running) { again = true; return; }
    running = true;
    try {
      do { again = false; await refresh(); } while (again);
    } catch (error) {
      live.set("down", `Update failed: ${error.message}`);
    } finally {
      running = false;
    }
  };
}

// -- messages page -------------------------------------------------------------------------------

const FILTERS = [
  ["channel", "Channel", { sms: "SMS", messenger: "Messenger", viber_service_msg: "Viber" }],
  ["status", "Status", null],
  ["account", "Account", null],
  ["direction", "Direction", { outbound: "Outbound", inbound: "Inbound" }],
];

function messagesPage(main) {
  const params = new URLSearchParams(location.search);
  const heading = h("h1", {}, "Messages");
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter messages", onsubmit: (e) => e.preventDefault() });
  const selects = {};
  for (const [name, label] of FILTERS) {
    selects[name] = h("select", { name, id: `filter-${name}`, onchange: changed });
    selects[name].append(h("option", { value: "" }, "All"));
    form.append(h("label", { for: `filter-${name}` }, label, selects[name]));
  }
  const search = h("input", {
    type: "search", name: "q", id: "filter-q", value: params.get("q") || "",
    placeholder: "message uuid, recipient or client_ref", autocomplete: "off", oninput: debounce(changed, 200),
  });
  form.append(h("label", { class: "search", for: "filter-q" }, "Search", search));
  form.append(h("button", { type: "button", onclick: reset }, "Clear filters"));
  const count = h("p", { class: "count", "aria-live": "polite" });
  const results = h("div", { class: "table-wrap" });
  append(main, [heading, form, count, results]);

  let known = null; // message uuids shown before, to mark new rows
  const refresh = serialised(load);
  load().then((version) => live.follow(version, refresh)).catch((e) => live.set("down", e.message));

  function query() {
    const q = new URLSearchParams();
    for (const [name] of FILTERS) if (selects[name].value) q.set(name, selects[name].value);
    if (search.value.trim()) q.set("q", search.value.trim());
    return q;
  }

  function changed() {
    const q = query().toString();
    history.replaceState(null, "", q ? `?${q}` : location.pathname);
    known = null;
    refresh();
  }

  function reset() {
    for (const [name] of FILTERS) selects[name].value = "";
    search.value = "";
    changed();
  }

  async function load() {
    const wanted = new URLSearchParams(location.search);
    const data = await getJson(`${API}/messages?${wanted.toString()}`);
    for (const [name, , labels] of FILTERS) fillSelect(selects[name], data.facets[name] || [], labels, wanted.get(name) || "");
    count.textContent = data.total === 0
      ? "No messages yet."
      : `Showing ${data.messages.length} of ${data.matched} matching (${data.total} in all).`;
    rerender(results, (node) => node.append(messagesTable(data.messages, known)));
    known = new Set(data.messages.map((m) => m.message_uuid));
    live.updated();
    return data.version;
  }
}

function fillSelect(select, values, labels, chosen) {
  const current = select.value || chosen;
  const options = [...new Set([...values, ...(current ? [current] : [])])];
  const wantedText = JSON.stringify(options);
  if (select.dataset.options !== wantedText) {
    select.dataset.options = wantedText;
    while (select.options.length > 1) select.remove(1);
    for (const value of options) select.append(h("option", { value }, (labels && labels[value]) || value));
  }
  select.value = current;
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function rowLabel(m) {
  const who = m.direction === "inbound" ? `inbound ${m.channel_label} message from ${m.from}` : `${m.channel_label} message to ${m.to}`;
  return `${who}, ${m.status}: ${m.preview || "(no text)"}`;
}

function messagesTable(messages, known) {
  if (messages.length === 0) {
    return h("p", { class: "empty panel" },
      "Nothing here yet. Send a message to the API (the banner of `make run` has a ready curl) and it appears at once.");
  }
  const head = h("thead", {}, h("tr", {},
    ["Time", "", "Channel", "From", "To", "Message", "Status", "Account"].map((t) => h("th", { scope: "col" }, t))));
  const body = h("tbody");
  for (const m of messages) {
    const href = messageHref(m.message_uuid);
    const row = h("tr", {
      class: `row-link${known && !known.has(m.message_uuid) ? " fresh" : ""}`,
      "data-uuid": m.message_uuid,
      onclick: (event) => { if (!event.target.closest("a")) location.href = href; },
    },
    h("td", { class: "time" }, timeEl(m.created_at)),
    h("td", { class: "dir" }, m.direction === "inbound" ? "⬅ in" : "out ➡"),
    h("td", { class: "channel" }, m.channel_label),
    h("td", { class: "addr" }, m.from),
    h("td", { class: "addr" }, m.to),
    h("td", { class: "preview" },
      h("a", { href, "data-key": `row-${m.message_uuid}`, "aria-label": rowLabel(m) },
        m.preview || "(no text)"),
      m.client_ref ? h("div", { class: "muted" }, `client_ref ${m.client_ref}`) : null),
    h("td", {}, statusBadge(m.status)),
    h("td", { class: "addr" }, m.account || ""));
    body.append(row);
  }
  return h("table", {}, h("caption", { class: "visually-hidden" }, "Messages, newest first"), head, body);
}

// -- one message ---------------------------------------------------------------------------------

function messagePage(main, uuid) {
  const crumbs = h("p", { class: "crumbs" }, h("a", { href: `${BASE}/` }, "← All messages"));
  const content = h("div");
  const actionsPanel = h("section", { class: "panel actions", "aria-labelledby": "actions-title" });
  append(main, [crumbs, content]);
  let actionsBuilt = null;
  const refresh = serialised(load);
  load().then((version) => live.follow(version, refresh)).catch((e) => {
    clear(content).append(h("div", { class: "panel" }, h("h1", {}, "Message not found"), h("p", {}, e.message)));
    live.set("down", e.message);
  });

  async function load() {
    const data = await getJson(`${API}/messages/${encodeURIComponent(uuid)}`);
    clockSkew = Date.now() - data.now * 1000;
    if (!actionsBuilt) actionsBuilt = buildActions(actionsPanel, data, refresh);
    actionsBuilt.update(data);
    rerender(content, (node) => renderMessage(node, data, actionsPanel));
    document.title = `${data.summary.channel_label} ${data.summary.status} · ${uuid} · Switchboard console`;
    live.updated();
    return data.version;
  }
}

function renderMessage(node, data, actionsPanel) {
  const s = data.summary;
  const title = s.direction === "inbound"
    ? `Inbound ${s.channel_label} message from ${s.from}`
    : `${s.channel_label} message to ${s.to}`;
  node.append(h("div", { class: "title-row" }, h("h1", {}, title), statusBadge(s.status, "big"),
    s.direction === "inbound" ? h("span", { class: "badge s-inbound" }, "inbound") : null));

  const facts = [
    ["message_uuid", h("code", {}, s.message_uuid)],
    ["Channel", s.channel_label],
    ["From", h("code", {}, s.from)],
    ["To", h("code", {}, s.to)],
    ["Account (api_key)", h("code", {}, s.account || "")],
    s.application_id ? ["Application", h("code", {}, s.application_id)] : null,
    s.client_ref ? ["client_ref", h("code", {}, s.client_ref)] : null,
    ["Created", timeEl(s.created_at, true)],
    data.api_version ? ["API version", data.api_version] : null,
    data.provider_message_id ? ["Provider message id", h("code", {}, data.provider_message_id)] : null,
    data.error ? ["Error", h("span", { class: "tl-detail error" }, `${data.error.code} ${data.error.reason}`)] : null,
    s.workflow_uuid ? ["Workflow", h("a", { href: `#workflow` }, s.workflow_uuid)] : null,
  ].filter(Boolean);
  const factsPanel = h("section", { class: "panel", "aria-labelledby": "facts-title" },
    h("h2", { id: "facts-title" }, "Message"),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));

  const left = h("div", { class: "stack" }, previewPanel(data.preview), actionsPanel);
  const right = h("div", { class: "stack" }, factsPanel, timelinePanel(data.timeline));
  node.append(h("div", { class: "grid" }, left, right));
  node.append(providerPanel(data), webhooksPanel(data.webhooks));
  if (data.workflow) node.append(workflowPanel(data.workflow, true, s.message_uuid));
  node.append(h("section", { class: "panel", "aria-labelledby": "record-title" },
    h("h2", { id: "record-title" }, "Stored record"),
    h("details", { "data-key": "record" }, h("summary", { "data-key": "record-summary" }, "The message record as DynamoDB holds it"),
      codeBlock(data.record_text, "message record"))));
}

function timelinePanel(steps) {
  const list = h("ol", { class: "timeline" });
  for (const step of steps) {
    const bad = step.status === "rejected" || step.status === "undeliverable" || step.kind === "webhook";
    const item = h("li", { class: `k-${bad ? "bad" : step.kind}` },
      h("div", { class: "tl-head" }, h("span", { class: "tl-time" }, timeEl(step.at)),
        step.kind === "retry" ? statusBadge("retry") : statusBadge(step.status || step.kind),
        h("span", {}, step.label)));
    if (step.error) item.append(h("div", { class: "tl-detail error" }, `error ${step.error.code}: ${step.error.reason}`));
    if (step.next_attempt_at) {
      item.append(h("div", { class: "tl-detail" }, `next attempt in ${step.retry_in_seconds} s, due `, timeEl(step.next_attempt_at)));
    }
    if (step.provider_time) item.append(h("div", { class: "tl-detail" }, "provider's time ", timeEl(step.provider_time)));
    if (step.event && step.event !== "watermark") item.append(h("div", { class: "tl-detail" }, `event: ${step.event}`));
    if (step.event === "watermark") item.append(h("div", { class: "tl-detail" }, "from a Messenger watermark"));
    list.append(item);
  }
  return h("section", { class: "panel", "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, "Status timeline"),
    steps.length ? list : h("p", { class: "empty" }, "No history yet."));
}

// -- channel previews ----------------------------------------------------------------------------

function previewPanel(preview) {
  const side = preview.direction === "inbound" ? "in" : "out";
  const panel = h("section", { class: "panel", "aria-labelledby": "preview-title" },
    h("h2", { id: "preview-title" }, `How it looks on ${preview.channel_label}`));
  const head = preview.direction === "inbound"
    ? h("div", { class: "device-head" }, "from ", h("strong", {}, preview.from), " to ", preview.to)
    : h("div", { class: "device-head" }, h("strong", {}, preview.from), " → ", preview.to);
  const bubbles = h("div", { class: "bubbles" });
  const device = h("div", { class: `device device-${preview.kind}` }, head, bubbles);
  panel.append(device);
  if (preview.kind === "sms") {
    const sms = preview.sms;
    sms.parts.forEach((part, index) => {
      bubbles.append(h("div", { class: `bubble ${side}` },
        sms.part_count > 1 ? h("span", { class: "part-label" }, `part ${index + 1} of ${sms.part_count}`) : null, part));
    });
    const plural = sms.part_count === 1 ? "part" : "parts";
    panel.append(h("p", { class: "sms-facts" },
      h("strong", {}, `${sms.part_count} SMS ${plural}`), ` · ${sms.encoding} · ${sms.characters} characters = ${sms.units} ${sms.unit_name}`,
      ` · at most ${sms.part_limit} per part`, h("br"),
      h("span", { class: "muted" }, `Encoding from ${sms.encoding_from}.`)));
    if (sms.unsupported_characters.length) {
      panel.append(h("p", { class: "warning" },
        `GSM-7 cannot carry ${sms.unsupported_characters.join(" ")}: the handset shows "?" instead.`));
    }
    return panel;
  }
  bubbles.append(chatBubble(preview.content, side));
  return panel;
}

function chatBubble(content, side) {
  if (content.type === "text") return h("div", { class: `bubble ${side}` }, content.text || "");
  if (content.type === "location") {
    const place = content.location || {};
    return h("div", { class: `bubble ${side}` }, "📍 ", place.name || "Location", h("br"),
      place.address ? [place.address, h("br")] : null, `${place.lat}, ${place.long}`);
  }
  const bubble = h("div", { class: `bubble ${side} media` });
  if (content.type === "image" && content.url) {
    bubble.append(imageFrame(content.url));
  } else {
    bubble.append(h("div", { class: "media-frame" }, `📎 ${content.type}`, h("code", {}, content.url || "")));
  }
  if (content.caption) bubble.append(h("div", { class: "caption" }, content.caption));
  if (content.text && content.type !== "text") bubble.append(h("div", { class: "caption" }, content.text));
  return bubble;
}

// Images are not fetched until asked for: the console loads nothing from the internet by itself.
function imageFrame(url) {
  const frame = h("div", { class: "media-frame" }, "🖼 image", h("code", {}, url));
  let host = url;
  try { host = new URL(url).host; } catch (e) { /* keep the URL */ }
  const button = h("button", {
    type: "button", "data-key": `load-${url}`,
    onclick: () => {
      clear(frame).append(h("img", { src: url, alt: `the image at ${url}`, referrerpolicy: "no-referrer" }));
    },
  }, `Load image from ${host}`);
  frame.append(button);
  return frame;
}

// -- actions -------------------------------------------------------------------------------------

const RECEIPT_LABELS = { delivered: "Mark delivered", read: "Mark read", failed: "Mark failed" };

function buildActions(panel, data, refresh) {
  const uuid = data.summary.message_uuid;
  const result = h("div", { class: "result", role: "status", "aria-live": "polite" });
  const replyReason = h("p", { class: "reason", id: "reply-reason" });
  const replyText = h("textarea", { id: "reply-text", name: "text", "aria-describedby": "reply-reason", required: true });
  const replyButton = h("button", { type: "submit", class: "primary" }, "Send reply");
  const replyLabel = h("label", { for: "reply-text" });
  const replyForm = h("form", { onsubmit: submitReply }, replyLabel, replyText, h("div", { class: "action-row" }, replyButton), replyReason);
  const receipts = h("ul", { class: "receipts" });
  const buttons = {};
  for (const status of Object.keys(RECEIPT_LABELS)) {
    const reason = h("span", { class: "reason", id: `reason-${status}` });
    buttons[status] = {
      button: h("button", { type: "button", "aria-describedby": `reason-${status}`, onclick: () => receipt(status) }, RECEIPT_LABELS[status]),
      reason,
    };
    receipts.append(h("li", {}, buttons[status].button, reason));
  }
  append(panel, [
    h("h2", { id: "actions-title" }, "Act as the other side"),
    h("p", { class: "muted" }, "Each action is a signed provider webhook sent to the API's public route, as the provider would send it."),
    replyForm,
    h("h3", {}, "Provider receipts"),
    receipts,
    result,
  ]);

  async function submitReply(event) {
    event.preventDefault();
    if (!replyText.value.trim()) { replyText.focus(); return; }
    await run(() => postJson(`${API}/messages/${encodeURIComponent(uuid)}/reply`, { text: replyText.value }), "Reply sent");
    replyText.value = "";
  }

  function receipt(status) {
    return run(() => postJson(`${API}/messages/${encodeURIComponent(uuid)}/receipts`, { status }), `${status} receipt sent`);
  }

  async function run(action, label) {
    clear(result).append(h("p", { class: "result-head" }, "Sending…"));
    try {
      const outcome = await action();
      const ok = outcome.response.status >= 200 && outcome.response.status < 300;
      result.dataset.kind = ok ? "ok" : "error";
      clear(result).append(
        h("p", { class: "result-head" }, `${label}: the API answered ${outcome.response.status}`),
        h("details", {}, h("summary", {}, `${outcome.request.method} ${outcome.request.url}`),
          h("h3", {}, "Headers"), codeBlock(outcome.request.headers, "request headers"),
          h("h3", {}, "Body"), codeBlock(outcome.request.body_text, "request body"),
          h("h3", {}, "Answer"), codeBlock(outcome.response.body_text, "API answer")));
      refresh();
    } catch (error) {
      result.dataset.kind = "error";
      clear(result).append(h("p", { class: "result-head" }, `${label.split(" ")[0]} failed: ${error.message}`));
    }
  }

  return {
    update(latest) {
      const reply = latest.actions.reply;
      const s = latest.summary;
      replyLabel.textContent = s.direction === "inbound" ? "Reply" : `Reply as ${s.to}`;
      replyText.disabled = !reply.available;
      replyButton.disabled = !reply.available;
      replyReason.textContent = reply.reason;
      for (const [status, parts] of Object.entries(buttons)) {
        const offered = latest.actions[status];
        parts.button.disabled = !offered.available;
        parts.reason.textContent = offered.reason;
      }
    },
  };
}

// -- provider calls and webhooks -----------------------------------------------------------------

function providerPanel(data) {
  const panel = h("section", { class: "panel", "aria-labelledby": "provider-title" },
    h("h2", { id: "provider-title" }, "Provider calls"));
  if (data.summary.direction === "inbound") {
    panel.append(h("p", { class: "empty" }, "An inbound message arrives from the provider; nothing was sent to it."));
    return panel;
  }
  if (!data.provider_exchanges.length) panel.append(h("p", { class: "empty" }, "Nothing sent to the provider yet."));
  data.provider_exchanges.forEach((ex, index) => {
    const ok = ex.response_status >= 200 && ex.response_status < 300;
    panel.append(h("div", { class: "exchange" },
      h("div", { class: "exchange-head" }, h("h3", {}, `Attempt ${index + 1}`), timeEl(ex.received_at),
        h("code", {}, `${ex.method} ${ex.path}`),
        h("span", { class: `badge ${ok ? "ok" : "bad"}` }, `HTTP ${ex.response_status}`),
        h("span", { class: "muted" }, `matched by ${ex.matched_by}`)),
      h("div", { class: "two-col" },
        h("div", {}, h("h4", { class: "muted" }, "Request we sent (secrets as ***)"), codeBlock(ex.body_text, "request body")),
        h("div", {}, h("h4", { class: "muted" }, "Provider's answer"), codeBlock(ex.response_body === undefined ? "(not logged)" : ex.response_body_text, "answer body")))));
  });
  if (data.provider_reports.length) {
    panel.append(h("h3", { class: "section-gap" }, "Receipts the provider sent back"));
    const list = h("ul");
    for (const r of data.provider_reports) {
      list.append(h("li", {}, timeEl(r.sent_at), " ", statusBadge(r.report), " ",
        r.skipped ? h("span", { class: "muted" }, r.skipped)
          : [h("code", {}, `${r.method} ${r.path}`), ` answered ${r.response_status ?? r.error}`, r.attempt > 1 ? ` (attempt ${r.attempt})` : "",
            h("details", { "data-key": `report-${r.report}-${r.attempt}` }, h("summary", {}, "body"), codeBlock(r.body_text, "receipt body"))]));
    }
    panel.append(list);
  }
  return panel;
}

function webhooksPanel(webhooks) {
  const panel = h("section", { class: "panel", "aria-labelledby": "webhooks-title" },
    h("h2", { id: "webhooks-title" }, "Customer webhooks"));
  if (!webhooks.length) {
    panel.append(h("p", { class: "empty" }, "No webhook sent for this message yet."));
    return panel;
  }
  webhooks.forEach((w, index) => {
    const attempt = w.attempt || {};
    const delivery = w.delivery;
    const outcome = attempt.outcome || "received by the sink";
    const head = h("div", { class: "exchange-head" },
      h("h3", {}, w.webhook),
      attempt.attempt ? h("span", {}, `attempt ${attempt.attempt}`) : null,
      timeEl(attempt.at || (delivery && delivery.received_at)),
      h("span", { class: `badge ${outcome === "delivered" ? "ok" : outcome === "failed" ? "wait" : outcome === "gave_up" ? "bad" : "info"}` }, outcome),
      attempt.http_status ? h("span", {}, `receiver answered ${attempt.http_status}`) : null,
      attempt.error ? h("span", { class: "tl-detail error" }, attempt.error) : null,
      attempt.target ? h("span", { class: "muted" }, `URL of the ${attempt.target}`) : null);
    const block = h("div", { class: "exchange" }, head);
    if (w.next_attempt_due_at) block.append(h("p", { class: "tl-detail" }, "next attempt due ", timeEl(w.next_attempt_due_at, true)));
    if (delivery) {
      const sig = delivery.signature;
      const verdict = sig.valid === true ? h("span", { class: "badge ok" }, "signature verifies")
        : sig.valid === false ? h("span", { class: "badge bad" }, "signature does NOT verify")
          : h("span", { class: "badge" }, "unsigned");
      block.append(h("p", {}, h("code", {}, `${delivery.method} ${delivery.url}`), " ", verdict));
      block.append(h("details", { "data-key": `webhook-${index}` },
        h("summary", { "data-key": `webhook-summary-${index}` }, "Body and signature"), h("div", { class: "two-col" },
        h("div", {}, h("h4", { class: "muted" }, "Body"), codeBlock(delivery.body_text, "webhook body")),
        h("div", {}, h("h4", { class: "muted" }, "Our signature (Authorization: Bearer JWT, HS256)"),
          sig.claims ? codeBlock({ header: sig.header, claims: sig.claims }, "signature claims") : h("p", { class: "muted" }, sig.decode_error || "no token"),
          sig.token ? h("details", { "data-key": `token-${index}` }, h("summary", {}, "the token"), h("pre", { tabindex: "0" }, sig.token)) : null))));
    } else if (attempt.outcome) {
      block.append(h("p", { class: "muted" }, "The receiver is not the local webhook sink, so what it got is not captured here."));
    }
    panel.append(block);
  });
  return panel;
}

// -- workflows -----------------------------------------------------------------------------------

function workflowPanel(workflow, onMessagePage, currentUuid) {
  const panel = h("section", { class: "panel", id: onMessagePage ? "workflow" : null, "aria-label": `workflow ${workflow.workflow_uuid}` });
  panel.append(h("div", { class: "workflow-head" },
    h("h2", {}, onMessagePage ? "Failover workflow" : "Workflow"),
    h("code", {}, workflow.workflow_uuid), statusBadge(workflow.status),
    h("span", { class: "muted" }, `${workflow.flavour} · ${workflow.template} · account ${workflow.account}`),
    h("span", { class: "muted" }, "created ", timeEl(workflow.created_at, true))));
  const steps = h("ol", { class: "steps" });
  for (const step of workflow.steps) {
    const condition = step.failover
      ? `fails over unless ${step.failover.condition_status} within ${step.failover.expiry_time} s`
      : "last step";
    let link = h("a", { href: messageHref(step.message_uuid), "data-key": `step-${step.message_uuid}` }, step.preview || step.message_uuid);
    if (step.message_uuid === currentUuid) link = h("strong", {}, "this message");
    else if (!step.started_at) link = h("span", {}, step.preview);
    const item = h("li", { class: step.current ? "current" : "" },
      `Step ${step.index + 1}: ${step.channel_label} to `, h("code", {}, step.to), " · ", link, " ", statusBadge(step.state),
      h("span", { class: "muted" }, ` · ${condition}`));
    if (step.current && typeof step.seconds_left === "number") {
      item.append(" · ", h("span", { class: "timer", "data-seconds-left": step.seconds_left, "data-due": step.timer_due_at },
        timerText(step.seconds_left)));
    } else if (step.timer_due_at) {
      item.append(h("span", { class: "muted" }, " · timer was due "), timeEl(step.timer_due_at));
    }
    steps.append(item);
  }
  panel.append(steps);
  if (workflow.outcome) {
    panel.append(h("p", {}, "Outcome: ", statusBadge(workflow.outcome.status), ` at step ${workflow.outcome.step + 1}: ${workflow.outcome.reason} `,
      timeEl(workflow.outcome.at)));
  }
  panel.append(h("details", { "data-key": `history-${workflow.workflow_uuid}` },
    h("summary", { "data-key": `history-summary-${workflow.workflow_uuid}` }, `History (${workflow.history.length} events)`),
    codeBlock(workflow.history_text, "workflow history")));
  return panel;
}

function timerText(seconds) {
  if (seconds <= 0) return "timer expired: failing over…";
  return `${Math.ceil(seconds)} s left on the timer`;
}

// The timers count down between updates, from when the page got them.
function tickTimers() {
  for (const timer of document.querySelectorAll(".timer[data-due]")) {
    const left = (new Date(timer.dataset.due).getTime() - Date.now() - clockSkew) / 1000;
    timer.textContent = timerText(Math.max(0, left));
  }
}
let clockSkew = 0; // this browser's clock minus the stack's

function workflowsPage(main) {
  const list = h("div");
  append(main, [h("h1", {}, "Failover workflows"), list]);
  const refresh = serialised(load);
  load().then((version) => live.follow(version, refresh)).catch((e) => live.set("down", e.message));
  setInterval(tickTimers, 1000);

  async function load() {
    const data = await getJson(`${API}/workflows`);
    clockSkew = Date.now() - data.now * 1000;
    rerender(list, (node) => {
      if (!data.workflows.length) {
        node.append(h("p", { class: "empty panel" }, "No workflows yet. POST /v0.1/dispatch, /beta/workflows or /v1/messages with failover starts one."));
      }
      for (const w of data.workflows) node.append(workflowPanel(w, false, null));
    });
    tickTimers();
    live.updated();
    return data.version;
  }
}

// -- start ---------------------------------------------------------------------------------------

function start() {
  live.element = document.getElementById("live");
  const main = document.getElementById("main");
  clear(main);
  const path = location.pathname.replace(/\/+$/, "");
  const messageMatch = path.match(/^\/_console\/messages\/([^/]+)$/);
  let page = "messages";
  if (messageMatch) {
    messagePage(main, decodeURIComponent(messageMatch[1]));
  } else if (path === `${BASE}/workflows`) {
    page = "workflows";
    workflowsPage(main);
  } else {
    messagesPage(main);
  }
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === page && !messageMatch) link.setAttribute("aria-current", "page");
  }
  if (messageMatch) setInterval(tickTimers, 1000); // a message's workflow timer counts down too
}

document.addEventListener("DOMContentLoaded", start);
