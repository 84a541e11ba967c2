// Connects the real `twilio-chat` 6.0.0 Client to chinwag and reports what happens.
//
//   node chat_client.js ws://HOST:PORT/v3/wsconnect TOKEN
//
// Prints JSON lines: every connectionStateChanged and stateChanged, and the Configuration the
// client fetched (read from its internals once it asks for it; the Sync objects chat needs to
// reach `initialized` belong to a later part of chinwag). Ends itself after SECONDS (argv[4]).
"use strict";

const { Client } = require("twilio-chat");

const [uri, token, seconds] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const client = new Client(token, { twilsock: { uri }, logLevel: "silent" });
client.on("connectionStateChanged", (state) => out({ event: "connectionStateChanged", state }));
client.on("stateChanged", (state) => out({ event: "stateChanged", state }));
client.on("connectionError", (e) =>
  out({ event: "connectionError", httpStatusCode: e.httpStatusCode, errorCode: e.errorCode })
);

// The chat client's own transport is the twilsock client it created: watch the Configuration
// round trip the chat client makes through it.
const transport = client.services.twilsockClient;
const get = transport.get.bind(transport);
transport.get = async (url, ...rest) => {
  const response = await get(url, ...rest);
  out({ event: "upstream", method: "GET", url, status: response.status, body: response.body });
  return response;
};

// Until the Sync objects exist, the SDK's own initialisation rejects (404 from Sync): report
// it instead of letting Node end the process.
process.on("unhandledRejection", (e) =>
  out({ event: "unhandledRejection", message: String(e && e.message), status: e && e.status })
);

setTimeout(() => {
  out({ event: "done" });
  process.exit(0);
}, Number(seconds || 5) * 1000);
