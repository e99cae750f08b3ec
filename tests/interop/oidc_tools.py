"""A real OpenID provider for the OIDC tests (oidc_provider.mjs, the npm
oidc-provider) on a loopback HTTPS port with its own test CA, and ID tokens
for it: issued by the provider itself (Provider.id_token), or signed here
with the private keys the provider was configured with when a test needs
claims the provider would not issue (expired, another audience, ...). Its
discovery document and JWKS, which podterm fetches, are the provider's own.
Also the attack tokens: alg none, HS256 keyed with the public key."""
import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from kube_tools import make_pki

HERE = os.path.dirname(os.path.abspath(__file__))
START_TIMEOUT_S = 60


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SigningKey:
    """An RSA key with a kid: its private JWK for the provider, tokens signed with it."""

    def __init__(self, kid):
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def private_jwk(self):
        pn = self.key.private_numbers()
        pub = pn.public_numbers

        def num(n):
            return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))
        return {"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig", "n": num(pub.n),
                "e": num(pub.e), "d": num(pn.d), "p": num(pn.p), "q": num(pn.q),
                "dp": num(pn.dmp1), "dq": num(pn.dmq1), "qi": num(pn.iqmp)}

    def public_pem(self):
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, claims, kid=None, alg="RS256"):
        header = {"alg": alg, "kid": self.kid if kid is None else kid, "typ": "JWT"}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(sig)}"

    def hs256_with_public_key(self, claims):
        """The algorithm-confusion attack: HMAC keyed with the (public) PEM."""
        header = {"alg": "HS256", "kid": self.kid, "typ": "JWT"}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        mac = hmac.new(self.public_pem(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(mac)}"


def unsigned(claims, kid="k1"):
    header = {"alg": "none", "kid": kid, "typ": "JWT"}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


class Provider:
    """oidc_provider.mjs on 127.0.0.1:port; restartable with other keys (rotation)."""

    def __init__(self, d, keys, port=None, start=True):
        self.dir = d
        self.port = port or free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        os.makedirs(d, exist_ok=True)
        make_pki(d, ca_name="oidc-test-idp-ca")
        self.ca = os.path.join(d, "ca.crt")
        self.request_log = os.path.join(d, "requests.log")
        open(self.request_log, "w").close()
        self.proc = None
        self.keys = keys
        if start:
            self.start()

    def start(self, keys=None):
        if keys is not None:
            self.keys = keys
        jwks = os.path.join(self.dir, "jwks.json")
        with open(jwks, "w") as f:
            json.dump({"keys": [k.private_jwk() for k in self.keys]}, f)
        self.out = open(os.path.join(self.dir, "provider.out"), "wb")
        self.proc = subprocess.Popen(
            ["node", os.path.join(HERE, "oidc_provider.mjs"), str(self.port),
             os.path.join(self.dir, "server.crt"), os.path.join(self.dir, "server.key"), jwks,
             self.request_log], stdout=self.out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"listening" not in open(self.out.name, "rb").read():
            assert self.proc.poll() is None, open(self.out.name, "rb").read()
            assert time.monotonic() < deadline, "oidc-provider did not start"
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, keys):
        self.stop()
        self.start(keys)

    def id_token(self, sub):
        """An ID token for the account sub, issued and signed by the provider."""
        ctx = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(f"{self.issuer}/test/id-token?sub={sub}", context=ctx,
                                    timeout=30) as r:
            return r.read().decode()

    def requests(self, path):
        with open(self.request_log) as f:
            return sum(1 for line in f if line.split()[1:2] == [path])

    def claims(self, sub, ttl=300, **extra):
        now = int(time.time())
        c = {"iss": self.issuer, "aud": "podterm", "sub": sub, "iat": now, "exp": now + ttl}
        c.update(extra)
        return {k: v for k, v in c.items() if v is not None}
