// twilio-node's Chat v2 (and v3), pointed at a chinwag: a handful of operations, through
// client.chat.v2 and the default client.chat.services. Prints one JSON line of what it saw.
// Usage: node chat_v2.js URL ACCOUNT_SID AUTH_TOKEN (NODE_PATH: tests/tokens_node/node_modules)
const twilio = require("twilio");

const [url, accountSid, authToken] = process.argv.slice(2);

async function main() {
  const client = twilio(accountSid, authToken);
  client.chat.baseUrl = url;
  const seen = {};
  const service = await client.chat.v2.services.create({ friendlyName: "node" });
  seen.serviceUrl = service.url;
  const updated = await client.chat.v2.services(service.sid).update({
    "notifications.newMessage.sound": "ding",
    "notifications.logEnabled": true,
    preWebhookRetryCount: 1,
  });
  seen.notifications = updated.notifications;
  seen.preWebhookRetryCount = updated.preWebhookRetryCount;
  const services = client.chat.services; // the default: v2, with a deprecation warning
  const channel = await services(service.sid).channels.create({
    uniqueName: "general",
    createdBy: "importer",
    dateCreated: new Date(Date.UTC(2020, 0, 2, 3, 4, 5)),
    xTwilioWebhookEnabled: "true",
  });
  seen.channel = { createdBy: channel.createdBy, dateCreated: channel.dateCreated.toISOString() };
  const member = await services(service.sid)
    .channels("general")
    .members.create({ identity: "alice", attributes: '{"seat": 1}' });
  seen.memberAttributes = member.attributes;
  const message = await services(service.sid)
    .channels(channel.sid)
    .messages.create({ body: "hi", from: "alice" });
  seen.message = { type: message.type, media: message.media, from: message.from };
  const userChannel = await services(service.sid)
    .users("alice")
    .userChannels(channel.sid)
    .update({ notificationLevel: "muted" });
  seen.userChannel = {
    notificationLevel: userChannel.notificationLevel,
    userSid: userChannel.userSid,
    status: userChannel.status,
  };
  const listed = await client.chat.v2.services(service.sid).users("alice").userChannels.list();
  seen.listed = listed.map((uc) => uc.channelSid);
  const v3 = await client.chat.v3.channels(service.sid, channel.sid).update({ type: "private" });
  seen.v3Type = v3.type;
  seen.left = await client.chat.v2
    .services(service.sid)
    .users("alice")
    .userChannels(channel.sid)
    .remove();
  seen.membersAfter = (await services(service.sid).channels(channel.sid).members.list()).length;
  try {
    await client.chat.v2.services(service.sid).channels("nope").fetch();
  } catch (error) {
    seen.error = { status: error.status, code: error.code };
  }
  seen.removed = await client.chat.v2.services(service.sid).remove();
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
