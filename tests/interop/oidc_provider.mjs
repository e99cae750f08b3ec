// oidc_provider.mjs - a real OpenID provider (oidc-provider, OpenID-certified)
// for the OIDC sign-in tests, on a loopback HTTPS port.
//
//   node oidc_provider.mjs PORT CERT KEY JWKS_FILE REQUEST_LOG
//
// Issuer https://127.0.0.1:PORT. JWKS_FILE holds the private signing keys
// (a JWK set; the tests write it, and restart the provider with another to
// rotate keys). Every request's method and path is appended to REQUEST_LOG,
// so a test can count how often podterm fetched the keys. Two users in two
// groups are its accounts; client "podterm" may use client_credentials;
// GET /test/id-token?sub=NAME returns an ID token the provider issued.
// Prints "listening" once it serves.
import fs from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const [port, certFile, keyFile, jwksFile, requestLog] = process.argv.slice(2);
const issuer = `https://127.0.0.1:${port}`;
const accounts = {
  alice: { sub: 'alice', email: 'alice@example.test', email_verified: true, groups: ['devs'] },
  bob: { sub: 'bob', email: 'bob@example.test', email_verified: false, groups: ['qa'] },
};

const provider = new Provider(issuer, {
  jwks: JSON.parse(fs.readFileSync(jwksFile, 'utf8')),
  clients: [{
    client_id: 'podterm',
    client_secret: 'podterm-test-secret-not-for-production',
    grant_types: ['client_credentials', 'authorization_code'],
    response_types: ['code'],
    redirect_uris: ['https://127.0.0.1/oauth2/callback'],
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  findAccount: async (ctx, id) => accounts[id] && {
    accountId: id,
    claims: async () => accounts[id],
  },
});

// GET /test/id-token?sub=alice: an ID token for that account, issued and
// signed by the provider itself (its IdToken model and keystore), as its
// code flow would hand it to the client. For the tests only: loopback.
async function mintIdToken(req, res) {
  const sub = new URL(req.url, issuer).searchParams.get('sub');
  const account = accounts[sub];
  if (!account) {
    res.writeHead(404).end();
    return;
  }
  const client = await provider.Client.find('podterm');
  const token = new provider.IdToken({ ...account }, { client });
  token.scope = 'openid email groups';
  res.writeHead(200, { 'content-type': 'text/plain' }).end(await token.issue({ use: 'idtoken' }));
}

const callback = provider.callback();
const server = https.createServer({
  cert: fs.readFileSync(certFile),
  key: fs.readFileSync(keyFile),
}, (req, res) => {
  fs.appendFileSync(requestLog, `${req.method} ${req.url}\n`);
  if (req.url.startsWith('/test/id-token?')) {
    mintIdToken(req, res).catch((e) => res.writeHead(500).end(String(e)));
    return;
  }
  callback(req, res);
});
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write('listening\n');
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
