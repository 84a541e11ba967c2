// Connects the real `twilio-chat` 6.0.0 Client to chinwag for push registrations and media.
//
//   node chat_push_media.js ws://HOST:PORT/v3/wsconnect TOKEN
//
// Prints JSON lines: {"event": "initialized"}, channelJoined, and messageAdded with the
// message's type and media. Reads commands on stdin (each answers an event with its tag):
//   {"cmd": "push", "type": "fcm", "token": "…"}      -> client.setPushRegistrationId
//   {"cmd": "unpush", "type": "fcm"}                   -> client.unsetPushRegistrationId
//   {"cmd": "mute", "channel": "CH…"}                  -> channel.setUserNotificationLevel('muted')
//   {"cmd": "ready", "channel": "CH…"}                 -> opens the channel's messages
//   {"cmd": "sendMedia", "channel": "CH…", "contentType": "…", "base64": "…"}
//                                                     -> channel.sendMessage({contentType, media})
//   {"cmd": "download", "channel": "CH…", "index": 0} -> the message's getContentTemporaryUrl(),
//                                                        fetched without credentials
//   {"cmd": "upload", "contentType": "…", "size": N}  -> the SDK's media client posts N bytes
// A rejected command prints {"event": "failed", "tag", "message", "status", "body"}.
"use strict";

const readline = require("readline");
const { Client } = require("twilio-chat");

const [uri, token] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const client = new Client(token, { twilsock: { uri }, logLevel: "silent" });
const channels = new Map();

client.on("stateChanged", (state) => out({ event: state }));
client.on("channelJoined", (channel) => {
  channels.set(channel.sid, channel);
  out({ event: "channelJoined", channel: channel.sid });
});
client.on("messageAdded", (m) =>
  out({
    event: "messageAdded",
    channel: m.channel.sid,
    index: m.index,
    type: m.type,
    body: m.body,
    author: m.author,
    media: m.media && {
      sid: m.media.sid,
      contentType: m.media.contentType,
      size: m.media.size,
      filename: m.media.filename,
    },
  })
);
process.on("unhandledRejection", (e) => out({ event: "unhandledRejection", message: String(e && e.message) }));

async function message(channel, index) {
  const page = await channels.get(channel).getMessages(100);
  return page.items.find((m) => m.index === index);
}

const commands = {
  async push({ type, token: pushToken }) {
    await client.setPushRegistrationId(type, pushToken);
    return {};
  },
  async unpush({ type }) {
    await client.unsetPushRegistrationId(type);
    return {};
  },
  async mute({ channel }) {
    await channels.get(channel).setUserNotificationLevel("muted");
    return {};
  },
  async ready({ channel }) {
    const page = await channels.get(channel).getMessages();
    return { messages: page.items.length };
  },
  async sendMedia({ channel, contentType, base64 }) {
    const media = Buffer.from(base64, "base64");
    const index = await channels.get(channel).sendMessage({ contentType, media });
    return { index };
  },
  async download({ channel, index }) {
    const found = await message(channel, index);
    const url = await found.media.getContentTemporaryUrl();
    const response = await fetch(url);
    const bytes = Buffer.from(await response.arrayBuffer());
    return {
      url,
      status: response.status,
      contentType: response.headers.get("content-type"),
      base64: bytes.toString("base64"),
    };
  },
  async upload({ contentType, size }) {
    const media = await client.services.mcsClient.post(contentType, Buffer.alloc(size, 7), null);
    return { sid: media.sid, size: media.size };
  },
};

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const command = JSON.parse(line);
  try {
    out({ event: command.cmd, tag: command.tag, ...(await commands[command.cmd](command)) });
  } catch (e) {
    out({
      event: "failed",
      tag: command.tag,
      message: String(e && e.message),
      status: e && e.status,
      body: e && e.body,
    });
  }
});
