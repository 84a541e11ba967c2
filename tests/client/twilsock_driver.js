// Drives the real `twilsock` client (the version twilio-chat 6.0.0 resolves) for chinwag's tests.
//
//   node twilsock_driver.js ws://HOST:PORT/v3/wsconnect TOKEN
//
// Prints one JSON object per line for every event the client emits ({"event": ...}), and
// reads commands as JSON lines on stdin:
//   {"cmd": "get", "url": "https://aim.example/Client/v1/Configuration"}  -> {"event": "response", ...}
//   {"cmd": "post", "url": ..., "body": {...}}                             -> {"event": "response", ...}
//   {"cmd": "updateToken", "token": "..."}                                 -> {"event": "tokenUpdated"|"tokenUpdateFailed"}
//   {"cmd": "disconnect"}                                                  -> {"event": "disconnectDone"}
// Each command may carry "tag", echoed in its answer.
"use strict";

const readline = require("readline");
const { TwilsockClient } = require("twilsock");

const [uri, token] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const client = new TwilsockClient(token, "ip_messaging", {
  twilsock: { uri },
  logLevel: "silent",
  initRegistrations: [
    {
      product: "ip_messaging",
      type: "ers",
      notification_protocol_version: 0,
      message_types: ["twilio.ipmsg.typing_indicator", "twilio.sync.event"],
    },
  ],
});

for (const name of ["connected", "disconnected", "tokenAboutToExpire", "tokenExpired"]) {
  client.on(name, () => out({ event: name, state: client.state }));
}
client.on("stateChanged", (state) => out({ event: "stateChanged", state }));
client.on("connectionError", (e) =>
  out({
    event: "connectionError",
    terminal: e.terminal,
    httpStatusCode: e.httpStatusCode,
    errorCode: e.errorCode,
    message: e.message,
  })
);
client.on("message", (type, payload) => out({ event: "message", type, payload }));

async function run(command) {
  const tag = command.tag;
  try {
    if (command.cmd === "get" || command.cmd === "post" || command.cmd === "delete") {
      const headers = { "Content-Type": "application/json; charset=utf-8" };
      const r =
        command.cmd === "get"
          ? await client.get(command.url, headers)
          : command.cmd === "post"
          ? await client.post(command.url, headers, command.body)
          : await client.delete(command.url, headers, null);
      out({ event: "response", tag, status: r.status, body: r.body });
    } else if (command.cmd === "updateToken") {
      await client.updateToken(command.token);
      out({ event: "tokenUpdated", tag });
    } else if (command.cmd === "disconnect") {
      await client.disconnect();
      out({ event: "disconnectDone", tag });
    }
  } catch (e) {
    out({
      event: "error",
      tag,
      cmd: command.cmd,
      name: e.name,
      message: e.message,
      status: e.status === undefined ? null : e.status,
      body: e.body === undefined ? null : e.body,
    });
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim()) run(JSON.parse(line));
});
process.stdin.on("end", () => process.exit(0));

client.connect();
out({ event: "started" });
