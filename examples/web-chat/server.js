// The web chat's server: the page, the twilio-chat SDK's browser build (from node_modules, no
// CDN), and the one back-end call a chat page needs, an access token.
//
//   npm --prefix examples/web-chat ci && npm --prefix examples/web-chat start
//
// Settings: those of backend.js, and WEB_CHAT_HOST (default 127.0.0.1), WEB_CHAT_PORT
// (default 3000; 0 picks a free port). It prints the page's address once it listens.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const backend = require("./backend");

// The files the page loads, and nothing else of this folder.
const FILES = {
  "/": ["public/index.html", "text/html; charset=utf-8"],
  "/app.js": ["public/app.js", "text/javascript; charset=utf-8"],
  "/app.css": ["public/app.css", "text/css; charset=utf-8"],
  "/twilio-chat.min.js": [
    "node_modules/twilio-chat/builds/twilio-chat.min.js",
    "text/javascript; charset=utf-8",
  ],
};
// A demo mints a token for whoever asks: a real back end first checks who its user is.
const IDENTITY = /^[A-Za-z0-9_.-]{1,64}$/;

function answer(res, status, type, body) {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(body);
}

async function main() {
  const config = backend.settings();
  const serviceSid = await backend.setup(config);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    if (req.method !== "GET") return answer(res, 405, "text/plain", "GET only\n");
    if (url.pathname === "/token") {
      const identity = url.searchParams.get("identity") || "";
      if (!IDENTITY.test(identity)) return answer(res, 400, "text/plain", "bad identity\n");
      const body = { token: backend.token(config, serviceSid, identity), ws: config.ws };
      return answer(res, 200, "application/json", JSON.stringify(body));
    }
    const file = FILES[url.pathname];
    if (!file) return answer(res, 404, "text/plain", "not found\n");
    fs.readFile(path.join(__dirname, file[0]), (error, data) => {
      if (error) answer(res, 500, "text/plain", "run npm ci in examples/web-chat first\n");
      else answer(res, 200, file[1], data);
    });
  });
  const host = process.env.WEB_CHAT_HOST || "127.0.0.1";
  const port = Number(process.env.WEB_CHAT_PORT ?? 3000);
  server.listen(port, host, () => {
    const { port: bound } = server.address();
    console.log(`web chat: http://${host}:${bound}/ (chinwag ${config.url}, service ${serviceSid})`);
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
}

main().catch((error) => {
  console.error(`web chat: ${error.message}`);
  process.exit(1);
});
