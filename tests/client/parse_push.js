// Feeds push payloads to the twilio-chat 6.0.0 SDK's own parser.
//
//   node parse_push.js < payloads.jsonl
//
// Each input line is one payload as the app receives it: an APNs payload (with "aps") or an
// FCM message reduced to {"data": {...}}. Each output line is what Client.parsePushNotification
// made of it: {"type", "title", "body", "sound", "badge", "action", "data"}, or {"error": text}.
"use strict";

const readline = require("readline");
const { Client } = require("twilio-chat");

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  try {
    const parsed = Client.parsePushNotification(JSON.parse(line));
    process.stdout.write(
      JSON.stringify({
        type: parsed.type,
        title: parsed.title,
        body: parsed.body,
        sound: parsed.sound,
        badge: parsed.badge,
        action: parsed.action,
        data: parsed.data,
      }) + "\n",
    );
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err && err.message) }) + "\n");
  }
});
