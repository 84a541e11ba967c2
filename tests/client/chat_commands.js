// Drives the real `twilio-chat` 6.0.0 Client through the chat command API and reports what
// every client event carries.
//
//   node chat_commands.js ws://HOST:PORT/v3/wsconnect TOKEN
//
// Prints JSON lines: {"event": "initialized"}, then one line per client event (channel*,
// message*, member*, userUpdated). Reads commands on stdin, {"cmd": NAME, "tag": T, ...}, and
// answers each with {"event": NAME, "tag": T, ...result} or {"event": "failed", "tag": T,
// "message": ...} when the SDK's promise rejects.
"use strict";

const readline = require("readline");
const { Client } = require("twilio-chat");

const [uri, token] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const client = new Client(token, { twilsock: { uri }, logLevel: "silent" });

client.on("stateChanged", (state) => out({ event: state }));
for (const name of ["channelAdded", "channelJoined", "channelInvited", "channelLeft", "channelRemoved"]) {
  client.on(name, (channel) => out({ event: name, channel: channel.sid, status: channel.status }));
}
client.on("channelUpdated", ({ channel, updateReasons }) =>
  out({
    event: "channelUpdated",
    channel: channel.sid,
    reasons: updateReasons,
    friendlyName: channel.friendlyName,
    uniqueName: channel.uniqueName,
    attributes: channel.attributes,
    lastConsumedMessageIndex: channel.lastConsumedMessageIndex,
    notificationLevel: channel.notificationLevel,
  })
);
const message = (m) => ({
  channel: m.channel.sid,
  index: m.index,
  body: m.body,
  author: m.author,
  attributes: m.attributes,
});
client.on("messageAdded", (m) => out({ event: "messageAdded", ...message(m) }));
client.on("messageUpdated", ({ message: m, updateReasons }) =>
  out({ event: "messageUpdated", reasons: updateReasons, ...message(m) })
);
client.on("messageRemoved", (m) => out({ event: "messageRemoved", ...message(m) }));
const member = (m) => ({
  channel: m.channel.sid,
  identity: m.identity,
  lastConsumedMessageIndex: m.lastConsumedMessageIndex,
  attributes: m.attributes,
});
client.on("memberJoined", (m) => out({ event: "memberJoined", ...member(m) }));
client.on("memberLeft", (m) => out({ event: "memberLeft", ...member(m) }));
client.on("memberUpdated", ({ member: m, updateReasons }) =>
  out({ event: "memberUpdated", reasons: updateReasons, ...member(m) })
);
client.on("userUpdated", ({ user, updateReasons }) =>
  out({
    event: "userUpdated",
    identity: user.identity,
    reasons: updateReasons,
    friendlyName: user.friendlyName,
    attributes: user.attributes,
  })
);
process.on("unhandledRejection", (e) => out({ event: "unhandledRejection", message: String(e && e.message) }));

const channel = (sid) => client.getChannelBySid(sid);
const messageAt = async (sid, index) => {
  const page = await (await channel(sid)).getMessages(1, index, "forward");
  return page.items[0];
};
const descriptor = (d) => ({
  sid: d.sid,
  uniqueName: d.uniqueName,
  friendlyName: d.friendlyName,
  status: d.status,
  membersCount: d.membersCount,
  messagesCount: d.messagesCount,
  lastConsumedMessageIndex: d.lastConsumedMessageIndex,
  notificationLevel: d.notificationLevel,
});

const commands = {
  async createChannel({ options }) {
    const created = await client.createChannel(options);
    return { channel: created.sid, createdBy: created.createdBy, status: created.status };
  },
  async getChannel({ key }) {
    const found = key.startsWith("CH") ? await channel(key) : await client.getChannelByUniqueName(key);
    return { channel: found.sid, friendlyName: found.friendlyName, uniqueName: found.uniqueName };
  },
  async open({ channel: sid }) {
    const found = await channel(sid);
    const messages = await found.getMessages();
    const members = await found.getMembers();
    return { messages: messages.items.map((m) => m.body), members: members.map((m) => m.identity).sort() };
  },
  join: async ({ channel: sid }) => ((await (await channel(sid)).join()), {}),
  leave: async ({ channel: sid }) => ((await (await channel(sid)).leave()), {}),
  decline: async ({ channel: sid }) => ((await (await channel(sid)).decline()), {}),
  add: async ({ channel: sid, identity }) => ((await (await channel(sid)).add(identity)), {}),
  invite: async ({ channel: sid, identity }) => ((await (await channel(sid)).invite(identity)), {}),
  removeMember: async ({ channel: sid, identity }) => ((await (await channel(sid)).removeMember(identity)), {}),
  deleteChannel: async ({ channel: sid }) => ((await (await channel(sid)).delete()), {}),
  async updateChannel({ channel: sid, attributes, friendlyName, uniqueName }) {
    const found = await channel(sid);
    if (attributes !== undefined) await found.updateAttributes(attributes);
    if (friendlyName !== undefined) await found.updateFriendlyName(friendlyName);
    if (uniqueName !== undefined) await found.updateUniqueName(uniqueName);
    return {};
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
  removeMessage: async ({ channel: sid, index }) => ((await (await messageAt(sid, index)).remove()), {}),
  async horizon({ channel: sid, how, index }) {
    const found = await channel(sid);
    const calls = {
      advance: () => found.advanceLastConsumedMessageIndex(index),
      update: () => found.updateLastConsumedMessageIndex(index),
      none: () => found.setNoMessagesConsumed(),
      all: () => found.setAllMessagesConsumed(),
    };
    return { unread: await calls[how]() };
  },
  async notificationLevel({ channel: sid, level }) {
    const found = await channel(sid);
    await found.setUserNotificationLevel(level);
    return {};
  },
  async level({ channel: sid }) {
    return { level: (await channel(sid)).notificationLevel };
  },
  async updateMember({ channel: sid, identity, attributes }) {
    const members = await (await channel(sid)).getMembers();
    const found = members.find((m) => m.identity === identity);
    await found.updateAttributes(attributes);
    return {};
  },
  async memberAttributes({ channel: sid, identity }) {
    const members = await (await channel(sid)).getMembers();
    return { attributes: members.find((m) => m.identity === identity).attributes };
  },
  // The SDK names each mutation with a fresh uuid (commandexecutor.js); this makes its next
  // mutation carry `id` instead, as a retry of an earlier attempt would.
  mutationId({ id }) {
    const executor = client.services.commandExecutor;
    const makeRequest = executor._makeRequest;
    executor._makeRequest = (method, url, body, headers) => {
      if (!headers || !headers["X-Twilio-Mutation-Id"]) return makeRequest.call(executor, method, url, body, headers);
      executor._makeRequest = makeRequest;
      return makeRequest.call(executor, method, url, body, { ...headers, "X-Twilio-Mutation-Id": id });
    };
    return {};
  },
  async counts({ channel: sid }) {
    const found = await channel(sid);
    return {
      members: await found.getMembersCount(),
      messages: await found.getMessagesCount(),
      unread: await found.getUnconsumedMessagesCount(),
    };
  },
  async updateUser({ friendlyName, attributes }) {
    if (friendlyName !== undefined) await client.user.updateFriendlyName(friendlyName);
    if (attributes !== undefined) await client.user.updateAttributes(attributes);
    return {};
  },
  async getUser({ identity }) {
    const user = await client.getUser(identity);
    const described = await client.getUserDescriptor(identity);
    return { friendlyName: user.friendlyName, attributes: user.attributes, described: described.friendlyName };
  },
  async channelUsers({ channel: sid }) {
    const page = await (await channel(sid)).getUserDescriptors();
    return { identities: page.items.map((u) => u.identity).sort(), hasNext: page.hasNextPage };
  },
  async publicChannels() {
    const page = await client.getPublicChannelDescriptors();
    return { channels: page.items.map(descriptor) };
  },
  async myChannels() {
    const page = await client.getUserChannelDescriptors();
    return { channels: page.items.map(descriptor) };
  },
  async subscribed() {
    const page = await client.getSubscribedChannels();
    return { channels: page.items.map((c) => ({ sid: c.sid, status: c.status })) };
  },
};

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const command = JSON.parse(line);
  try {
    out({ event: command.cmd, tag: command.tag, ...(await commands[command.cmd](command)) });
  } catch (e) {
    out({ event: "failed", tag: command.tag, message: String(e && e.message), code: e && e.code, status: e && e.status });
  }
});
