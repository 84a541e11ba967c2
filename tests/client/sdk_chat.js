// Drives any twilio-chat version (3.4.0, 4.1.0, 5.0.2, 6.0.0) through the same chat, for
// chinwag's tests. The SDK is the one installed in SDK_DIR (tests/client for 6.0.0,
// tests/client-<version> for the others, each pinned by its lock file).
//
//   node sdk_chat.js SDK_DIR ws://HOST:PORT/v3/wsconnect TOKEN
//
// Prints JSON lines, each with a growing "seq": one per client event (listened to from the
// start, so connection and token events are seen even when initialization never ends), and
// {"event": "initialized", "version"} once the client is initialized as Client.create would
// wait for it ({"event": "createFailed", ...} if that rejects). Reads commands on stdin, {"cmd": NAME, "tag": T, ...}, and answers each with
// {"event": NAME, "tag": T, "start": seq, "end": seq, ...result}, or {"event": "failed", ...}
// when the SDK's promise rejects: the events with start < seq <= end happened while the
// command ran, before its promise resolved (read your own writes).
//
// The versions differ in a few names, which this script alone knows: a channel's status
// "known" (3.x) is reported as "notParticipating" (4.x and later), and a media's temporary
// URL is getContentUrl() in 3.x, getContentTemporaryUrl() later.
"use strict";

const path = require("path");
const readline = require("readline");

const [sdkDir, uri, token] = process.argv.slice(2);
const sdk = (name) => require(require.resolve(name, { paths: [path.resolve(sdkDir)] }));
const { Client } = sdk("twilio-chat");

let seq = 0;
const out = (obj) => process.stdout.write(JSON.stringify({ seq: ++seq, ...obj }) + "\n");
const status = (s) => (s === "known" ? "notParticipating" : s);
const channels = new Map();
let client = null;

const message = (m) => ({
  channel: m.channel.sid,
  index: m.index,
  body: m.body,
  author: m.author,
  attributes: m.attributes,
  type: m.type,
  media: m.media && { sid: m.media.sid, contentType: m.media.contentType, size: m.media.size },
});
const member = (m) => ({
  channel: m.channel.sid,
  identity: m.identity,
  lastConsumedMessageIndex: m.lastConsumedMessageIndex,
  attributes: m.attributes,
});

function listen() {
  client.on("stateChanged", (state) => out({ event: "stateChanged", state }));
  client.on("connectionStateChanged", (state) => out({ event: "connectionStateChanged", state }));
  // the transport's own events: 5.x re-emits them on the chat client only once initialized
  const twilsock = client.services.twilsockClient;
  twilsock.on("connectionError", (e) => out({ event: "connectionError", errorCode: e.errorCode }));
  twilsock.on("tokenExpired", () => out({ event: "tokenExpired" }));
  for (const name of ["channelAdded", "channelJoined", "channelInvited", "channelLeft", "channelRemoved"]) {
    client.on(name, (c) => {
      channels.set(c.sid, c);
      out({ event: name, channel: c.sid, status: status(c.status) });
    });
  }
  client.on("channelUpdated", ({ channel: c, updateReasons }) =>
    out({
      event: "channelUpdated",
      channel: c.sid,
      reasons: updateReasons,
      friendlyName: c.friendlyName,
      attributes: c.attributes,
      lastConsumedMessageIndex: c.lastConsumedMessageIndex,
      lastMessage: c.lastMessage ? c.lastMessage.index : null,
    })
  );
  client.on("messageAdded", (m) => out({ event: "messageAdded", ...message(m) }));
  client.on("messageUpdated", ({ message: m, updateReasons }) =>
    out({ event: "messageUpdated", reasons: updateReasons, ...message(m) })
  );
  client.on("messageRemoved", (m) => out({ event: "messageRemoved", ...message(m) }));
  client.on("memberJoined", (m) => out({ event: "memberJoined", ...member(m) }));
  client.on("memberLeft", (m) => out({ event: "memberLeft", ...member(m) }));
  client.on("memberUpdated", ({ member: m, updateReasons }) =>
    out({ event: "memberUpdated", reasons: updateReasons, ...member(m) })
  );
  for (const name of ["typingStarted", "typingEnded"]) {
    client.on(name, (m) => out({ event: name, channel: m.channel.sid, identity: m.identity }));
  }
  client.on("userUpdated", ({ user, updateReasons }) =>
    out({ event: "userUpdated", identity: user.identity, reasons: updateReasons, friendlyName: user.friendlyName })
  );
}

process.on("unhandledRejection", (e) => out({ event: "unhandledRejection", message: String(e && e.message) }));

const channel = async (sid) => channels.get(sid) || (await client.getChannelBySid(sid));
const messageAt = async (sid, index) => {
  const page = await (await channel(sid)).getMessages(1, index, "forward");
  return page.items[0];
};
const described = (d) => ({ sid: d.sid, uniqueName: d.uniqueName, status: status(d.status), membersCount: d.membersCount });
const done = (thing) => ((void thing), {});

const commands = {
  async createChannel({ options }) {
    const created = await client.createChannel(options);
    channels.set(created.sid, created);
    return { channel: created.sid, status: status(created.status) };
  },
  async getChannel({ key }) {
    const found = key.startsWith("CH") ? await channel(key) : await client.getChannelByUniqueName(key);
    channels.set(found.sid, found);
    return { channel: found.sid, friendlyName: found.friendlyName };
  },
  async join({ channel: sid }) {
    const found = await channel(sid);
    await found.join();
    return { status: status(found.status) };
  },
  async leave({ channel: sid }) {
    const found = await channel(sid);
    await found.leave();
    return { status: status(found.status) };
  },
  decline: async ({ channel: sid }) => done(await (await channel(sid)).decline()),
  add: async ({ channel: sid, identity }) => done(await (await channel(sid)).add(identity)),
  invite: async ({ channel: sid, identity }) => done(await (await channel(sid)).invite(identity)),
  removeMember: async ({ channel: sid, identity }) => done(await (await channel(sid)).removeMember(identity)),
  deleteChannel: async ({ channel: sid }) => done(await (await channel(sid)).delete()),
  async open({ channel: sid }) {
    const found = await channel(sid);
    const messages = await found.getMessages();
    const members = await found.getMembers();
    return { messages: messages.items.map((m) => m.body), members: members.map((m) => m.identity).sort() };
  },
  async history({ channel: sid, pageSize }) {
    // walking back from the newest page, and forward from the first message
    const found = await channel(sid);
    const walk = async (page, step) => {
      const pages = [page.items.map((m) => m.index)];
      while (step(page).has) {
        page = await step(page).next();
        pages.push(page.items.map((m) => m.index));
      }
      return pages;
    };
    const back = await walk(await found.getMessages(pageSize), (p) => ({ has: p.hasPrevPage, next: () => p.prevPage() }));
    const forward = await walk(await found.getMessages(pageSize, 0, "forward"), (p) => ({
      has: p.hasNextPage,
      next: () => p.nextPage(),
    }));
    return { back, forward };
  },
  async send({ channel: sid, body, attributes }) {
    return { index: await (await channel(sid)).sendMessage(body, attributes) };
  },
  async updateMessage({ channel: sid, index, body, attributes }) {
    const found = await messageAt(sid, index);
    if (body !== undefined) await found.updateBody(body);
    if (attributes !== undefined) await found.updateAttributes(attributes);
    return {};
  },
  removeMessage: async ({ channel: sid, index }) => done(await (await messageAt(sid, index)).remove()),
  async updateChannel({ channel: sid, attributes, friendlyName }) {
    const found = await channel(sid);
    if (attributes !== undefined) await found.updateAttributes(attributes);
    if (friendlyName !== undefined) await found.updateFriendlyName(friendlyName);
    return {};
  },
  typing: async ({ channel: sid }) => done(await (await channel(sid)).typing()),
  async horizon({ channel: sid, how, index }) {
    const found = await channel(sid);
    const calls = {
      advance: () => found.advanceLastConsumedMessageIndex(index),
      update: () => found.updateLastConsumedMessageIndex(index),
      none: () => found.setNoMessagesConsumed(),
    };
    return { unread: await calls[how]() };
  },
  async counts({ channel: sid }) {
    const found = await channel(sid);
    return {
      members: await found.getMembersCount(),
      messages: await found.getMessagesCount(),
      unread: await found.getUnconsumedMessagesCount(),
    };
  },
  async updateUser({ friendlyName }) {
    await client.user.updateFriendlyName(friendlyName);
    return {};
  },
  async getUser({ identity }) {
    const user = await client.getUser(identity);
    const descriptor = await client.getUserDescriptor(identity);
    return { friendlyName: user.friendlyName, described: descriptor.friendlyName };
  },
  async publicChannels() {
    const page = await client.getPublicChannelDescriptors();
    return { channels: page.items.map(described) };
  },
  async myChannels() {
    const page = await client.getUserChannelDescriptors();
    return { channels: page.items.map(described) };
  },
  async channelUsers({ channel: sid }) {
    const page = await (await channel(sid)).getUserDescriptors();
    return { identities: page.items.map((u) => u.identity).sort() };
  },
  async subscribed() {
    const page = await client.getSubscribedChannels();
    return { channels: page.items.map((c) => ({ sid: c.sid, status: status(c.status) })) };
  },
  async notificationLevel({ channel: sid, level }) {
    await (await channel(sid)).setUserNotificationLevel(level);
    return {};
  },
  async sendMedia({ channel: sid, contentType, base64 }) {
    const media = Buffer.from(base64, "base64");
    return { index: await (await channel(sid)).sendMessage({ contentType, media }) };
  },
  async download({ channel: sid, index }) {
    const found = await messageAt(sid, index);
    const url = found.media.getContentTemporaryUrl
      ? await found.media.getContentTemporaryUrl()
      : await found.media.getContentUrl();
    const response = await fetch(url);
    return { status: response.status, base64: Buffer.from(await response.arrayBuffer()).toString("base64") };
  },
  push: async ({ type, token: pushToken }) => done(await client.setPushRegistrationId(type, pushToken)),
  unpush: async ({ type }) => done(await client.unsetPushRegistrationId(type)),
  async drop() {
    client.services.twilsockClient.channel.websocket.socket.terminate();
    return {};
  },
  updateToken: async ({ token: fresh }) => done(await client.updateToken(fresh)),
};

// Client.create(), with the listeners attached first: 3.x to 5.x create then initialize();
// 6.x connects in its constructor and is ready when _ensureReady resolves.
client = new Client(token, { twilsock: { uri }, logLevel: "silent" });
listen();
(client.initialize ? client.initialize() : client._ensureReady).then(
  () => out({ event: "initialized", version: Client.version }),
  (e) => out({ event: "createFailed", message: String(e && e.message) })
);

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const command = JSON.parse(line);
  const start = seq;
  try {
    const result = await commands[command.cmd](command);
    out({ event: command.cmd, tag: command.tag, start, end: seq, ...result });
  } catch (e) {
    out({ event: "failed", tag: command.tag, message: String(e && e.message), code: e && e.code, status: e && e.status });
  }
});
