// Mint a Chat access token with twilio-node's AccessToken, as a customer's Node back end does.
// Usage: node mint.js ACCOUNT_SID KEY_SID KEY_SECRET SERVICE_SID IDENTITY [ALGORITHM] [TTL]
const { jwt: { AccessToken } } = require("twilio");

const [accountSid, keySid, keySecret, serviceSid, identity, algorithm, ttl] =
  process.argv.slice(2);
const token = new AccessToken(accountSid, keySid, keySecret, {
  identity,
  ttl: ttl ? Number(ttl) : 3600,
});
token.addGrant(new AccessToken.ChatGrant({ serviceSid, endpointId: `node:${identity}` }));
console.log(token.toJwt(algorithm || "HS256"));
