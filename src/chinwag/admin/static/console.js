// chinwag console: plain JS, no build step, no third-party code.
// Credentials live in sessionStorage (this tab only) and go out as an Authorization header on
// same-origin fetches; no cookie is ever set, so another site cannot make the browser act.
"use strict";

const KEY = "chinwag.console.auth";
const $ = (id) => document.getElementById(id);
let liveAbort = null;

function auth() { return sessionStorage.getItem(KEY); }

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: "Basic " + auth() }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers, credentials: "omit" }));
  if (response.status === 401) { logout("Your credentials were refused."); throw new Error("401"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body && body.message ? body.message : "HTTP " + response.status);
  return body;
}

function form(fields) { return { method: "POST", body: new URLSearchParams(fields) }; }

// Every page of a list, up to a bound, so search covers what is loaded.
async function listAll(path, key, max = 1000) {
  const items = [];
  let next = path + (path.includes("?") ? "&" : "?") + "PageSize=100";
  while (next && items.length < max) {
    const page = await api(next);
    items.push(...page[key]);
    next = page.meta.next_page_url ? new URL(page.meta.next_page_url).pathname + new URL(page.meta.next_page_url).search : null;
  }
  return items;
}

// SIDs and URLs are one long word each: their cells may break anywhere (console.css).
const CODE = /^[A-Z]{2}[0-9a-f]{32}$|:\/\//;

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (CODE.test(td.textContent)) td.className = "code";
  row.append(td);
  return td;
}

function fill(tableId, items, columns, onPick) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    row.dataset.search = JSON.stringify(item).toLowerCase();
    columns.forEach((col, i) => {
      const td = cell(row, col(item));
      if (i === 0 && onPick) {
        const button = document.createElement("button");
        button.type = "button"; button.className = "link"; button.textContent = td.textContent;
        button.addEventListener("click", () => onPick(item));
        td.replaceChildren(button);
      }
    });
    body.append(row);
  }
  applySearch();
}

function applySearch() {
  const q = $("search").value.trim().toLowerCase();
  for (const row of document.querySelectorAll("#browse tbody tr")) row.hidden = q !== "" && !row.dataset.search.includes(q);
}

function service() { return $("service").value; }

// Names for SIDs the API answers with: role and channel SIDs are shown as the names people gave
// them. Filled from the lists the console loads and the events it receives.
const roleNames = new Map(), channelNames = new Map();

function channelName(channel) { return channel.unique_name || channel.friendly_name || channel.sid; }

function remember(channel) { channelNames.set(channel.sid, channelName(channel)); }

// A channel's name, asked from the API once per channel the console has not seen yet.
const asked = new Map();
function lookUpChannel(serviceSid, sid) {
  if (channelNames.has(sid)) return Promise.resolve(channelNames.get(sid));
  if (!asked.has(sid)) {
    asked.set(sid, api("/v1/Services/" + serviceSid + "/Channels/" + sid)
      .then((channel) => { remember(channel); return channelNames.get(sid); })
      .catch(() => sid));
  }
  return asked.get(sid);
}

function size(bytes) {
  if (bytes < 1024) return bytes + " B";
  return bytes < 1048576 ? (bytes / 1024).toFixed(1) + " KiB" : (bytes / 1048576).toFixed(1) + " MiB";
}

// What a media message carries, where its body is empty.
function mediaText(media) {
  return "[media] " + (media.filename ? media.filename + ", " : "") + media.content_type + ", " + size(media.size);
}

async function loadServices() {
  const services = await listAll("/v1/Services", "services");
  const select = $("service");
  select.replaceChildren(...services.map((s) => new Option(s.friendly_name + " (" + s.sid + ")", s.sid)));
  await loadService();
}

let shown = 0;  // the latest service load; an older one that finishes later is dropped

async function loadService() {
  const mine = ++shown;
  $("channel-detail").hidden = true;
  if (!service()) { for (const t of ["channels", "users", "roles"]) fill(t, [], []); return; }
  const base = "/v1/Services/" + service();
  const [channels, users, roles] = await Promise.all([
    listAll(base + "/Channels", "channels"), listAll(base + "/Users", "users"), listAll(base + "/Roles", "roles")]);
  if (mine !== shown) return;
  channels.forEach(remember);
  for (const r of roles) roleNames.set(r.sid, r.friendly_name);
  fill("channels", channels, [channelName, (c) => c.type, (c) => c.members_count, (c) => c.messages_count], showChannel);
  fill("users", users, [(u) => u.identity, (u) => u.friendly_name, (u) => u.sid]);
  fill("roles", roles, [(r) => r.friendly_name, (r) => r.type, (r) => r.permissions.join(", ")]);
}

async function showChannel(channel) {
  const base = "/v1/Services/" + service() + "/Channels/" + channel.sid;
  const query = "?service=" + service() + "&channel=" + channel.sid;
  const [members, messages, { media }] = await Promise.all([
    listAll(base + "/Members", "members"), listAll(base + "/Messages", "messages"), api("/_chinwag/media" + query)]);
  const carried = new Map(media.map((m) => [m.index, m]));
  $("detail-title").textContent = "Channel " + channelName(channel);
  fill("members", members, [(m) => m.identity, (m) => roleNames.get(m.role_sid) || m.role_sid, (m) => m.sid]);
  fill("messages", messages, [(m) => m.index, (m) => m.from, (m) => m.body || (carried.has(m.index) ? mediaText(carried.get(m.index)) : "")]);
  $("channel-detail").hidden = false;
  $("detail-title").focus();
}

// --- live feed: server-sent events read with fetch, so the Authorization header goes along
// The event's line, with its channel named by `name` (the SID until the name is known).
function describe(type, event, name) {
  const m = event.message, who = event.member, ch = event.channel;
  if (m) return type + ": " + m.author + " in " + name + ": " + (m.body || (m.media ? mediaText(m.media) : ""));
  if (who) return type + ": " + who.identity + " in " + name;
  if (ch) return type + ": " + channelName(ch);
  if (event.identity) return event.identity + " is typing in " + name;
  return type;
}

function showEvent(type, data) {
  const event = JSON.parse(data);
  const item = document.createElement("li");
  item.className = type.split(".")[0];
  const time = document.createElement("time");
  const now = new Date();
  time.dateTime = now.toISOString(); time.textContent = now.toLocaleTimeString();
  const text = document.createElement("span");
  item.append(time, " ", text);
  if (event.channel && type !== "channel.removed") remember(event.channel);
  const about = event.message || event.member || event;
  const sid = about.channel_sid, serviceSid = about.service_sid;
  text.textContent = describe(type, event, channelNames.get(sid) || sid);
  if (sid && serviceSid && !channelNames.has(sid)) {
    lookUpChannel(serviceSid, sid).then((name) => { text.textContent = describe(type, event, name); });
  }
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > 200) feed.lastElementChild.remove();
}

async function live() {
  liveAbort = new AbortController();
  const state = $("live-state");
  while (auth() && !liveAbort.signal.aborted) {
    try {
      const response = await fetch("/_chinwag/events", { headers: { Authorization: "Basic " + auth() }, signal: liveAbort.signal, credentials: "omit" });
      if (response.status === 401) { logout("Your credentials were refused."); return; }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
          let type = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (type === "ready") { state.textContent = "live"; state.className = "badge ok"; }
          else if (data) showEvent(type, data);
        }
      }
    } catch (error) {
      if (liveAbort.signal.aborted) return;
    }
    state.textContent = "reconnecting"; state.className = "badge";
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

// --- webhooks
async function loadDeliveries() {
  const state = $("webhook-state").value;
  const { deliveries } = await api("/_chinwag/webhooks" + (state ? "?state=" + state : ""));
  const body = $("deliveries").tBodies[0];
  body.replaceChildren();
  for (const d of deliveries) {
    const row = document.createElement("tr");
    row.id = "delivery-" + d.id;
    // a channel webhook's delivery names its webhook beside the target
    const target = d.method + " " + d.url + (d.webhook_sid ? " (channel webhook " + d.webhook_sid + ")" : "");
    [d.id, d.event_type, target, d.state, d.attempts].forEach((v) => cell(row, v));
    // the last answer, coloured by what it meant: delivered (2xx), failed, or still trying
    cell(row, d.last_error || (d.last_status ? "HTTP " + d.last_status : "")).className = "reason " + d.state;
    const action = cell(row, "");
    if (d.state === "failed") {
      const button = document.createElement("button");
      button.type = "button"; button.textContent = "Retry";
      button.setAttribute("aria-label", "Retry delivery " + d.id);
      button.addEventListener("click", () => retry(d.id));
      action.append(button);
    }
    body.append(row);
  }
  $("webhooks-status").textContent = deliveries.length + " deliveries";
  return deliveries;
}

async function retry(id) {
  try {
    await api("/_chinwag/webhooks/" + id + "/retry", { method: "POST" });
    $("webhooks-status").textContent = "Delivery " + id + " queued again";
  } catch (error) { $("webhooks-status").textContent = error.message; }
  // the dispatcher sends it on its own schedule: refresh until it is no longer pending
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const deliveries = await loadDeliveries().catch(() => []);
    if (deliveries.find((d) => d.id === id)?.state !== "pending") break;
  }
}

// --- clients
async function loadClients() {
  const data = await api("/_chinwag/clients");
  const body = $("client-list").tBodies[0];
  body.replaceChildren();
  for (const c of data.clients) {
    const row = document.createElement("tr");
    [c.identity, c.service_sid, new Date(c.connected_at).toLocaleString()].forEach((v) => cell(row, v));
    body.append(row);
  }
  const online = $("online-list").tBodies[0];
  online.replaceChildren();
  for (const [serviceSid, identity] of data.online) {
    const row = document.createElement("tr");
    [identity, serviceSid].forEach((v) => cell(row, v));
    online.append(row);
  }
  const processes = data.processes === 1 ? "1 server process" : data.processes + " server processes";
  $("clients-status").textContent = data.online.length + " users online across " + processes +
    "; " + data.clients.length + " connections to this one";
}

// --- acting as a user
async function act(event, path, fields, done) {
  event.preventDefault();
  const status = $("act-status");
  if (!service()) { status.textContent = "Choose a service under Browse first."; return; }
  try {
    await api("/v1/Services/" + service() + "/Channels/" + encodeURIComponent(fields.channel) + path,
      Object.assign(form(fields.params), { headers: { "X-Twilio-Webhook-Enabled": "true" } }));
    status.textContent = done;
  } catch (error) { status.textContent = error.message; }
}

// --- pushes
async function loadPushes() {
  const state = $("push-state").value;
  const { pushes } = await api("/_chinwag/pushes" + (state ? "?state=" + state : ""));
  const body = $("push-log").tBodies[0];
  body.replaceChildren();
  for (const p of pushes) {
    const row = document.createElement("tr");
    row.id = "push-" + p.id;
    [p.id, p.kind, p.identity + " (" + p.channel_type + ")", p.state, p.attempts].forEach((v) => cell(row, v));
    // why it failed or was pruned, in the provider's words
    cell(row, p.last_error || (p.last_status ? "HTTP " + p.last_status : "")).className = "reason " + p.state;
    body.append(row);
  }
  $("pushes-status").textContent = pushes.length + " pushes";
  return pushes;
}

// --- navigation and session
const loaders = { browse: loadServices, webhooks: loadDeliveries, pushes: loadPushes, clients: loadClients };

function showTab(name) {
  if (!document.getElementById(name)?.classList.contains("tab")) name = "browse";
  for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== name;
  for (const link of document.querySelectorAll("[data-tab]")) {
    if (link.dataset.tab === name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  loaders[name]?.().catch((error) => console.warn(error));
}

function enter(user) {
  $("login").hidden = true; $("console").hidden = false;
  $("who").textContent = "Signed in as " + user; $("who").hidden = false; $("logout").hidden = false;
  showTab(location.hash.slice(1));
  live();
}

function logout(message) {
  sessionStorage.removeItem(KEY);
  liveAbort?.abort();
  $("console").hidden = true; $("login").hidden = false; $("who").hidden = true; $("logout").hidden = true;
  $("login-error").textContent = message || "";
  $("login-user").focus();
}

async function login(event) {
  event.preventDefault();
  const user = $("login-user").value.trim(), password = $("login-password").value;
  const encoded = btoa(user + ":" + password);
  const response = await fetch("/_chinwag/clients", { headers: { Authorization: "Basic " + encoded }, credentials: "omit" });
  $("login-password").value = "";
  if (!response.ok) { $("login-error").textContent = response.status === 401 ? "Wrong credentials." : "The server answered " + response.status + "."; return; }
  sessionStorage.setItem(KEY, encoded);
  sessionStorage.setItem(KEY + ".user", user);
  $("login-error").textContent = "";
  enter(user);
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout());
  $("service").addEventListener("change", () => loadService().catch(() => {}));
  $("search").addEventListener("input", applySearch);
  $("webhook-state").addEventListener("change", () => loadDeliveries().catch(() => {}));
  $("webhooks-refresh").addEventListener("click", () => loadDeliveries().catch(() => {}));
  $("push-state").addEventListener("change", () => loadPushes().catch(() => {}));
  $("pushes-refresh").addEventListener("click", () => loadPushes().catch(() => {}));
  $("detail-title").tabIndex = -1;
  $("post-form").addEventListener("submit", (e) => act(e, "/Messages",
    { channel: $("post-channel").value, params: { From: $("post-from").value, Body: $("post-body").value } }, "Message posted."));
  $("member-form").addEventListener("submit", (e) => act(e, "/Members",
    { channel: $("member-channel").value, params: { Identity: $("member-identity").value } }, "Member added."));
  window.addEventListener("hashchange", () => { if (auth()) showTab(location.hash.slice(1)); });
  if (auth()) enter(sessionStorage.getItem(KEY + ".user") || ""); else $("login-user").focus();
});
