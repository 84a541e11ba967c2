// The web chat: one pane per user, each with its own twilio-chat Client. Plain browser
// JavaScript, no build step; the SDK is the global Twilio.Chat that twilio-chat.min.js defines.
"use strict";

// Resolve with the first `event` of `emitter` for which `match` holds.
function next(emitter, event, match) {
  return new Promise((resolve) => {
    function listener(value) {
      if (!match(value)) return;
      emitter.removeListener(event, listener);
      resolve(value);
    }
    emitter.on(event, listener);
  });
}

async function fetchToken(identity) {
  const response = await fetch("/token?identity=" + encodeURIComponent(identity));
  if (!response.ok) throw new Error("no token: " + (await response.text()));
  return response.json();
}

class Pane {
  constructor(identity) {
    this.identity = identity;
    this.root = document.getElementById("pane").content.firstElementChild.cloneNode(true);
    this.root.id = "pane-" + identity;
    this.root.setAttribute("aria-label", identity);
    this.$(".who").textContent = identity;
    this.channels = new Map(); // joined channels by SID
    this.current = null;
    this.$(".join").addEventListener("submit", (e) => this.act(e, () => this.join(e.target.channel.value.trim())));
    this.$(".send").addEventListener("submit", (e) => this.act(e, () => this.send()));
    this.$("[name=text]").addEventListener("input", () => this.current?.typing());
    this.$("[name=picture]").addEventListener("change", (e) => this.act(e, () => this.sendPicture()));
  }

  $(selector) { return this.root.querySelector(selector); }

  async act(event, action) {
    event.preventDefault();
    this.$(".error").textContent = "";
    try { await action(); } catch (error) { this.$(".error").textContent = error.message; }
  }

  async start() {
    const { token, ws } = await fetchToken(this.identity);
    this.client = await Twilio.Chat.Client.create(token, { twilsock: { uri: ws } });
    this.$(".state").textContent = "connected";
    this.client.on("tokenAboutToExpire", async () => this.client.updateToken((await fetchToken(this.identity)).token));
    // channelJoined: a channel this user joined, here or anywhere else (another tab, the back
    // end through REST). Only from then on can the client use it.
    this.client.on("channelJoined", (channel) => this.listChannel(channel));
    const subscribed = await this.client.getSubscribedChannels();
    subscribed.items.filter((c) => c.status === "joined").forEach((c) => this.listChannel(c));
  }

  // Join the channel named `name` (creating it if nobody has), then open it. Listen for
  // channelJoined before calling join(): join() resolves as soon as chinwag has added the
  // member, and the channel is usable once the client hears of it, a moment later.
  async join(name) {
    let channel;
    try {
      channel = await this.client.getChannelByUniqueName(name);
    } catch (error) {
      if (error.status !== 404 && error.code !== 50300 && error.body?.code !== 20404) throw error;
      channel = await this.client.createChannel({ uniqueName: name, friendlyName: name });
    }
    if (channel.status !== "joined") {
      const joined = next(this.client, "channelJoined", (c) => c.sid === channel.sid);
      await channel.join();
      channel = await joined;
    }
    await this.open(channel);
  }

  listChannel(channel) {
    if (this.channels.has(channel.sid)) return;
    this.channels.set(channel.sid, channel);
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = channel.uniqueName || channel.friendlyName || channel.sid;
    button.dataset.sid = channel.sid;
    button.addEventListener("click", () => this.open(channel));
    this.$(".channels").append(button);
    channel.on("messageAdded", (message) => { if (channel === this.current) this.addMessage(message, true); });
    channel.on("typingStarted", (member) => { if (channel === this.current) this.showTyping(member, true); });
    channel.on("typingEnded", (member) => { if (channel === this.current) this.showTyping(member, false); });
    channel.on("memberUpdated", () => { if (channel === this.current) this.showRead(); });
  }

  // Show a channel: its messages and members (loading the members also lets the SDK say who
  // is typing), and mark everything in it read.
  async open(channel) {
    this.current = channel;
    for (const button of this.$(".channels").children) button.setAttribute("aria-current", String(button.dataset.sid === channel.sid));
    this.$(".title").textContent = "#" + (channel.uniqueName || channel.friendlyName);
    const [messages] = await Promise.all([channel.getMessages(50), channel.getMembers()]);
    if (channel !== this.current) return;
    this.$(".messages").replaceChildren();
    this.$(".typing").textContent = "";
    for (const message of messages.items) await this.addMessage(message, false);
    await this.markRead();
    this.showRead();
  }

  async addMessage(message, live) {
    const item = document.createElement("li");
    item.dataset.index = message.index;
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = message.author;
    item.append(author);
    if (message.type === "media") {
      const img = document.createElement("img");
      img.alt = message.media.filename || "a picture";
      img.src = await message.media.getContentTemporaryUrl();
      item.append(img);
    } else {
      item.append(message.body);
    }
    this.$(".messages").append(item);
    item.scrollIntoView({ block: "nearest" });
    if (live) await this.markRead();
  }

  // The read horizon: this user has seen every message of the open channel.
  async markRead() {
    if (this.current && document.visibilityState === "visible") await this.current.setAllMessagesConsumed();
  }

  // How far the other members have read, from their read horizons.
  showRead() {
    const others = [...this.current.members.values()].filter((m) => m.identity !== this.identity);
    this.$(".read").textContent = others
      .filter((m) => m.lastConsumedMessageIndex !== null && m.lastConsumedMessageIndex !== undefined)
      .map((m) => m.identity + " has read up to message " + m.lastConsumedMessageIndex)
      .join("; ");
  }

  showTyping(member, typing) {
    this.$(".typing").textContent = typing ? member.identity + " is typing…" : "";
  }

  requireChannel() {
    if (!this.current) throw new Error("Join a channel first.");
    return this.current;
  }

  async send() {
    const channel = this.requireChannel();
    const input = this.$("[name=text]");
    if (!input.value) return;
    await channel.sendMessage(input.value);
    input.value = "";
  }

  // A picture goes as the FormData a file input gives: the SDK uploads it to chinwag's media
  // service (the file keeps its name and type), then sends a media message.
  async sendPicture() {
    const channel = this.requireChannel();
    const input = this.$("[name=picture]");
    if (!input.files.length) return;
    const form = new FormData();
    form.append("file", input.files[0]);
    await channel.sendMessage(form);
    input.value = "";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const users = new URLSearchParams(location.search).get("users") || "alice,bob";
  for (const identity of users.split(",").map((u) => u.trim()).filter(Boolean)) {
    const pane = new Pane(identity);
    document.getElementById("panes").append(pane.root);
    pane.start().catch((error) => {
      pane.$(".state").textContent = "not connected";
      pane.$(".error").textContent = error.message;
    });
  }
});
