// What a chat app's back end does for its clients, against a local chinwag: set up the
// service once (through the REST API, with twilio-node) and mint access tokens (twilio-node's
// AccessToken). server.js (the web page's server) and chat.js (the Node chat) share it.
//
// Settings, from the environment (the names `chinwag serve` reads, so one set of exports
// serves both):
//   CHINWAG_ACCOUNT_SID, CHINWAG_API_KEY_SID, CHINWAG_API_KEY_SECRET   (required)
//   CHINWAG_URL        chinwag's address (default http://127.0.0.1:8080)
//   WEB_CHAT_SERVICE   the service's friendly name (default web-chat)
"use strict";

const twilio = require("twilio");

const { AccessToken } = twilio.jwt;
const { ChatGrant } = AccessToken;

function settings() {
  const env = process.env;
  const missing = ["CHINWAG_ACCOUNT_SID", "CHINWAG_API_KEY_SID", "CHINWAG_API_KEY_SECRET"].filter(
    (name) => !env[name]
  );
  if (missing.length) {
    throw new Error(`set ${missing.join(", ")} (see examples/web-chat/README.md)`);
  }
  const url = (env.CHINWAG_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
  return {
    url,
    ws: url.replace(/^http/, "ws") + "/v3/wsconnect",
    accountSid: env.CHINWAG_ACCOUNT_SID,
    keySid: env.CHINWAG_API_KEY_SID,
    keySecret: env.CHINWAG_API_KEY_SECRET,
    serviceName: env.WEB_CHAT_SERVICE || "web-chat",
  };
}

// The REST client, signed with the API key (a key works for REST as on Twilio).
function rest(config) {
  const client = twilio(config.keySid, config.keySecret, { accountSid: config.accountSid });
  client.chat.baseUrl = config.url; // instead of https://chat.twilio.com
  return client;
}

// The service the chat runs in, created on first use. Its channel roles ("channel user" for
// members, "channel admin" for a channel's creator) get the one permission this chat uses
// beyond Twilio's v1 defaults: sendMediaMessage, for pictures.
async function setup(config) {
  const chat = rest(config).chat.v1;
  const services = await chat.services.list();
  const found = services.find((s) => s.friendlyName === config.serviceName);
  const service = found || (await chat.services.create({ friendlyName: config.serviceName }));
  for (const role of await chat.services(service.sid).roles.list()) {
    if (role.type === "channel" && !role.permissions.includes("sendMediaMessage")) {
      await chat
        .services(service.sid)
        .roles(role.sid)
        .update({ permission: [...role.permissions, "sendMediaMessage"] });
    }
  }
  return service.sid;
}

// An access token for `identity` in the service: what a client logs in with.
function token(config, serviceSid, identity) {
  const jwt = new AccessToken(config.accountSid, config.keySid, config.keySecret, {
    identity,
    ttl: 3600,
  });
  jwt.addGrant(new ChatGrant({ serviceSid }));
  return jwt.toJwt();
}

module.exports = { settings, setup, token };
