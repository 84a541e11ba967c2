// The web page's chat as a Node script: alice and bob join a new channel, alice types and
// writes, bob answers, alice sends a picture, bob reads everything and alice sees how far he
// read. Each step prints a line; any step that does not happen within 20 s fails the script.
//
//   npm --prefix examples/web-chat run chat     (the settings of backend.js)
"use strict";

const zlib = require("zlib");
const { Client } = require("twilio-chat");
const backend = require("./backend");

const STEP_MS = 20000;

// Resolve with the first `event` of `emitter` that `match` accepts, or fail after STEP_MS.
function next(emitter, event, match = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`no ${event} within ${STEP_MS / 1000} s`));
    }, STEP_MS);
    function listener(value) {
      if (!match(value)) return;
      clearTimeout(timer);
      emitter.removeListener(event, listener);
      resolve(value);
    }
    emitter.on(event, listener);
  });
}

// Join `channel`, wait until the client has it as joined, and open it. `channel.join()`
// resolves when chinwag has made the member; the client learns it from the Sync event that
// follows, as `channelJoined`, and only then are the channel's messages and members there to
// use. So listen first, then join, then wait. Opening loads the messages and the members: the
// SDK tells who is typing only among the members it has loaded.
async function join(client, channel) {
  let joined = channel;
  if (channel.status !== "joined") {
    const event = next(client, "channelJoined", (c) => c.sid === channel.sid);
    await channel.join();
    joined = await event;
  }
  await Promise.all([joined.getMessages(), joined.getMembers()]);
  return joined;
}

// A 2x2 grey PNG, as a picture to send.
function png() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 0, 0, 0, 0]);
  const rows = Buffer.from([0, 128, 128, 0, 128, 128]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function main() {
  const config = backend.settings();
  const serviceSid = await backend.setup(config);
  const connect = (identity) =>
    Client.create(backend.token(config, serviceSid, identity), {
      twilsock: { uri: config.ws },
      logLevel: "silent",
    });
  const [alice, bob] = await Promise.all([connect("alice"), connect("bob")]);
  console.log("alice and bob are connected");

  const name = `node-chat-${Date.now()}`;
  const created = await alice.createChannel({ uniqueName: name, friendlyName: "Node chat" });
  const aliceChannel = await join(alice, created);
  const bobChannel = await join(bob, await bob.getChannelByUniqueName(name));
  console.log(`both joined ${name}`);

  const typing = next(bobChannel, "typingStarted");
  await aliceChannel.typing();
  console.log(`bob sees ${(await typing).identity} typing`);

  const from = (author) => (m) => m.author === author;
  let received = next(bobChannel, "messageAdded", from("alice"));
  await aliceChannel.sendMessage("Hello Bob!");
  let message = await received;
  console.log(`bob got "${message.body}" from ${message.author}`);

  received = next(aliceChannel, "messageAdded", from("bob"));
  await bobChannel.sendMessage("Hi Alice, the picture please");
  message = await received;
  console.log(`alice got "${message.body}" from ${message.author}`);

  const picture = png();
  received = next(bobChannel, "messageAdded", (m) => m.type === "media");
  await aliceChannel.sendMessage({ contentType: "image/png", media: picture });
  message = await received;
  const download = await fetch(await message.media.getContentTemporaryUrl());
  const bytes = Buffer.from(await download.arrayBuffer());
  console.log(`bob got a ${message.media.contentType} of ${bytes.length} bytes (sent ${picture.length})`);

  // the members' read horizons reach alice as memberUpdated (her channel has them loaded)
  const read = next(
    aliceChannel,
    "memberUpdated",
    ({ member }) => member.identity === "bob" && member.lastConsumedMessageIndex === message.index
  );
  await bobChannel.setAllMessagesConsumed();
  const { member } = await read;
  console.log(`alice sees bob has read up to message ${member.lastConsumedMessageIndex}`);

  await Promise.all([alice.shutdown(), bob.shutdown()]);
  console.log("done");
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`chat: ${error.message}`);
    process.exit(1);
  }
);
