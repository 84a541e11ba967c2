// How long a chat command's promise takes with the official SDK: join and sendMessage, p50/p90
// in ms. Both wait for the command's own events to reach the client first (read your own
// writes: docs/realtime.md), so this measures what that costs.
//
//   node bench/command_latency.js SDK_DIR ws://HOST:PORT/v3/wsconnect TOKEN [SENDS]
//
// SDK_DIR is an installed twilio-chat (tests/client for 6.0.0, tests/client-<version>); the
// token's identity should be fresh (it creates six channels and joins them).
"use strict";

const path = require("path");

const [sdkDir, uri, token, sends] = process.argv.slice(2);
const { Client } = require(require.resolve("twilio-chat", { paths: [path.resolve(sdkDir)] }));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];
const timed = async (promise) => {
  const started = process.hrtime.bigint();
  await promise();
  return Number(process.hrtime.bigint() - started) / 1e6;
};

(async () => {
  const client = await Client.create(token, { twilsock: { uri }, logLevel: "silent" });
  await pause(500); // its own maps subscribed
  const joins = [];
  for (let n = 0; n < 6; n++) {
    const channel = await client.createChannel({});
    await pause(150); // under the gateway's per-connection request rate
    joins.push(await timed(() => channel.join()));
  }
  const channel = await client.createChannel({});
  await channel.join();
  await channel.getMessages(); // the sender follows its own messages
  await pause(500);
  const sent = [];
  for (let n = 0; n < Number(sends || 40); n++) sent.push(await timed(() => channel.sendMessage(`m${n}`)));
  const ms = (v) => Number(v.toFixed(1));
  console.log(JSON.stringify({ join_p50: ms(pct(joins, 0.5)), join_p90: ms(pct(joins, 0.9)), send_p50: ms(pct(sent, 0.5)), send_p90: ms(pct(sent, 0.9)) }));
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
