// signin_provider.mjs - a real OpenID provider (npm oidc-provider, its dev
// login form) on a loopback HTTPS port, for the browser sign-in test.
//
//   node signin_provider.mjs PORT CERT KEY CONFIG_JSON
//
// CONFIG_JSON: { "redirectUris": [...], "postLogoutRedirectUris": [...],
//   "confidential": null | { "redirectUris": [...], "secret": "..." } }:
// client "podterm", public (PKCE, no secret), and when asked a second
// client "podterm-confidential" that authenticates with its secret
// (client_secret_basic). Two users in two groups (alice: devs, bob: qa);
// the login form takes any password. ID tokens carry the groups and email
// claims (conformIdTokenClaims off: a code flow's ID token has them, as
// most providers issue it). Prints "listening" once it serves.
import fs from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const [port, certFile, keyFile, configFile] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
const issuer = `https://127.0.0.1:${port}`;
const accounts = {
  alice: { sub: 'alice', email: 'alice@example.test', email_verified: true, groups: ['devs'] },
  bob: { sub: 'bob', email: 'bob@example.test', email_verified: true, groups: ['qa'] },
};

const client = {
  client_id: 'podterm',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: config.redirectUris,
  post_logout_redirect_uris: config.postLogoutRedirectUris,
};
client.token_endpoint_auth_method = 'none';
const clients = [client];
if (config.confidential) {
  clients.push({
    client_id: 'podterm-confidential',
    client_secret: config.confidential.secret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: config.confidential.redirectUris,
  });
}

const provider = new Provider(issuer, {
  clients,
  claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'] },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['signin-test-cookie-key-not-for-production'] },
  findAccount: async (ctx, id) => accounts[id] && {
    accountId: id,
    claims: async () => accounts[id],
  },
});
provider.proxy = false;

const callback = provider.callback();
const server = https.createServer({
  cert: fs.readFileSync(certFile),
  key: fs.readFileSync(keyFile),
}, (req, res) => {
  process.stdout.write(`${req.method} ${req.url.split('?')[0]}\n`);
  callback(req, res);
});
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write('listening\n');
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); });
