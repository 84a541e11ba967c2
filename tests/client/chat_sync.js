// Connects the real `twilio-chat` 6.0.0 Client to chinwag and reports the chat events that
// chinwag's Sync objects drive.
//
//   node chat_sync.js ws://HOST:PORT/v3/wsconnect TOKEN
//
// Prints JSON lines: {"event": "initialized"}, then for every client event
// channelJoined / channelInvited / channelLeft / channelRemoved / channelUpdated /
// messageAdded / memberJoined / memberLeft / connectionStateChanged, the fields tests check.
// Reads commands on stdin:
//   {"cmd": "ready", "channel": "CH…", "tag": …}  -> loads the channel's messages and members
//                                                   (its list and roster are open) -> {"event": "ready"}
//   {"cmd": "drop", "tag": …}                      -> cuts the WebSocket abruptly (no close frame)
//   {"cmd": "typing", "channel": "CH…", "tag": …}  -> channel.typing() -> {"event": "typing"}
//   {"cmd": "user", "channel": "CH…", "identity": …, "tag": …}
//                                                -> member.getUser() (subscribes to the user)
//                                                   -> {"event": "user", "online", "notifiable"}
// A subscribed user's change shows as {"event": "userUpdated", "identity", "reasons", "online",
// "notifiable"}.
// Typing shows as {"event": "typingStarted"|"typingEnded", "channel", "identity"}, and every
// typing notification the SDK's twilsock receives as {"event": "notification", "type", "payload"}.
"use strict";

const readline = require("readline");
const { Client } = require("twilio-chat");

const [uri, token] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const client = new Client(token, { twilsock: { uri }, logLevel: "silent" });
const channels = new Map();

client.on("stateChanged", (state) => out({ event: state }));
client.on("connectionStateChanged", (state) => out({ event: "connectionStateChanged", state }));
for (const name of ["channelJoined", "channelInvited", "channelLeft", "channelRemoved"]) {
  client.on(name, (channel) => {
    channels.set(channel.sid, channel);
    out({ event: name, channel: channel.sid, status: channel.status });
  });
}
client.on("channelUpdated", ({ channel, updateReasons }) =>
  out({ event: "channelUpdated", channel: channel.sid, reasons: updateReasons, name: channel.friendlyName })
);
client.on("messageAdded", (m) =>
  out({ event: "messageAdded", channel: m.channel.sid, index: m.index, body: m.body, author: m.author })
);
client.on("memberJoined", (m) => out({ event: "memberJoined", channel: m.channel.sid, identity: m.identity }));
client.services.twilsockClient.on("message", (type, payload) => {
  if (type === "twilio.ipmsg.typing_indicator") out({ event: "notification", type, payload });
});
for (const name of ["typingStarted", "typingEnded"]) {
  client.on(name, (m) => out({ event: name, channel: m.channel.sid, identity: m.identity }));
}
client.on("userUpdated", ({ user, updateReasons }) =>
  out({
    event: "userUpdated",
    identity: user.identity,
    reasons: updateReasons,
    online: user.online,
    notifiable: user.notifiable,
  })
);
client.on("memberLeft", (m) => out({ event: "memberLeft", channel: m.channel.sid, identity: m.identity }));

// Report a rejection nothing awaited instead of letting Node end the process.
process.on("unhandledRejection", (e) => out({ event: "unhandledRejection", message: String(e && e.message) }));

const commands = {
  async ready({ channel }) {
    const found = channels.get(channel);
    const messages = await found.getMessages();
    const members = await found.getMembers();
    return { messages: messages.items.length, members: members.map((m) => m.identity) };
  },
  async typing({ channel }) {
    await channels.get(channel).typing();
    return {};
  },
  async user({ channel, identity }) {
    const members = await channels.get(channel).getMembers();
    const user = await members.find((m) => m.identity === identity).getUser();
    return { reachability: client.reachabilityEnabled, online: user.online, notifiable: user.notifiable };
  },
  async drop() {
    const socket = client.services.twilsockClient.channel.websocket.socket;
    socket.terminate();
    return {};
  },
};

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const command = JSON.parse(line);
  try {
    out({ event: command.cmd, tag: command.tag, ...(await commands[command.cmd](command)) });
  } catch (e) {
    out({ event: "failed", tag: command.tag, message: String(e && e.message) });
  }
});
