"""An LTI 1.3 platform for the tests: what an LMS does towards the tool.

It has its own RSA key and serves its key set on loopback (a threaded http.server), signs
id tokens for launches and deep-linking requests, answers the OAuth2 client-credentials
token endpoint (checking the tool's signed assertion against the tool's key set), keeps
AGS line items, records the scores posted to them, serves a Names and Role
Provisioning roster, and checks the tool's signed deep-linking responses.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LINEITEMS = re.compile(r"^/contexts/[^/]+/lineitems$")
AGS_SCOPES = [
    AGS + "scope/lineitem",
    AGS + "scope/result.readonly",
    AGS + "scope/score",
]


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Platform:
    client_id = "course-server-client"
    deployment_id = "deployment-1"
    context_id = "course-101"

    def __init__(self):
        self.key = new_key()
        self.kid = "platform-" + secrets.token_hex(4)
        self.tool_jwks: dict = {"keys": []}
        self.line_items: dict[str, dict] = {}
        self.created_line_items = 0
        self.scores: list[dict] = []
        self.token_requests: list[dict] = []
        self.members: list[dict] = []
        self.fail_scores = 0  # answer this many score posts with 503
        self.tokens: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ endpoints
    @property
    def auth_url(self):
        return self.url + "/auth"

    @property
    def token_url(self):
        return self.url + "/token"

    @property
    def keyset_url(self):
        return self.url + "/jwks"

    @property
    def lineitems_url(self):
        return f"{self.url}/contexts/{self.context_id}/lineitems"

    @property
    def memberships_url(self):
        return f"{self.url}/contexts/{self.context_id}/memberships"

    def jwks(self) -> dict:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    # ------------------------------------------------------------ messages
    def id_token(
        self,
        nonce: str,
        sub: str = "learner-1",
        roles=(LEARNER,),
        message_type: str = "LtiResourceLinkRequest",
        resource_link_id: str = "link-1",
        custom: dict | None = None,
        ags: bool = True,
        lineitem: str | None = None,
        expires_in: int = 300,
        key=None,
        **overrides,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + expires_in,
            "nonce": nonce,
            "given_name": "Ada",
            "family_name": "Lovelace",
            "email": f"{sub}@example.edu",
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": "http://testserver/lti/launch/",
            LTI + "roles": list(roles),
            LTI + "context": {"id": self.context_id, "title": "Multivariate calculus"},
            NRPS + "claim/namesroleservice": {
                "context_memberships_url": self.memberships_url,
                "service_versions": ["2.0"],
            },
        }
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": resource_link_id, "title": "Linked"}
        else:
            claims[DL + "deep_linking_settings"] = {
                "deep_link_return_url": self.url + "/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-" + secrets.token_hex(4),
            }
        if custom:
            claims[LTI + "custom"] = custom
        if ags:
            claims[AGS + "claim/endpoint"] = {
                "scope": AGS_SCOPES,
                "lineitems": self.lineitems_url,
                **({"lineitem": lineitem} if lineitem else {}),
            }
        claims.update(overrides)
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def copy_course(self, context_id: str) -> None:
        """The course copied into a new context, its line items with it (new ids, the
        same resource ids), as an LMS's course copy does."""
        old = self.lineitems_url
        self.context_id = context_id
        with self.lock:
            for item in [i for i in self.line_items.values() if i["id"].startswith(old + "/")]:
                copy = {**item, "id": f"{self.lineitems_url}/{uuid.uuid4().hex[:8]}"}
                self.line_items[copy["id"]] = copy

    def accept_deep_link(self, token: str) -> dict:
        """The tool's deep-linking response, verified as a platform does: signed by a key
        in the tool's key set, from the client id, to this issuer."""
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(k for k in self.tool_jwks["keys"] if k["kid"] == kid)
        return jwt.decode(
            token,
            RSAAlgorithm.from_jwk(json.dumps(key)),
            algorithms=["RS256"],
            audience=self.issuer,
            issuer=self.client_id,
        )

    # ------------------------------------------------------------ services
    def _check_assertion(self, assertion: str) -> None:
        kid = jwt.get_unverified_header(assertion)["kid"]
        key = next(k for k in self.tool_jwks["keys"] if k["kid"] == kid)
        jwt.decode(
            assertion,
            RSAAlgorithm.from_jwk(json.dumps(key)),
            algorithms=["RS256"],
            audience=self.token_url,
            issuer=self.client_id,
        )


def _handler(platform: Platform):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body=None, content_type="application/json"):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            return header.startswith("Bearer ") and header[7:] in platform.tokens

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/jwks":
                return self._send(200, platform.jwks())
            if not self._authorised():
                return self._send(401, {"error": "no token"})
            if LINEITEMS.match(path):
                with platform.lock:
                    here = platform.url + path + "/"
                    items = [i for i in platform.line_items.values() if i["id"].startswith(here)]
                return self._send(200, items)
            if path == urlsplit(platform.memberships_url).path:
                return self._send(
                    200,
                    {
                        "id": platform.memberships_url,
                        "context": {"id": platform.context_id},
                        "members": platform.members,
                    },
                )
            return self._send(404, {"error": "not found"})

        def do_POST(self):
            path = urlsplit(self.path).path
            body = self._body()
            if path == "/token":
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                platform.token_requests.append(form)
                try:
                    platform._check_assertion(form["client_assertion"])
                except Exception as e:  # noqa: BLE001 - any fault is the client's
                    return self._send(401, {"error": "invalid_client", "detail": str(e)})
                token = secrets.token_hex(16)
                platform.tokens.add(token)
                return self._send(
                    200,
                    {
                        "access_token": token,
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "scope": form.get("scope", ""),
                    },
                )
            if not self._authorised():
                return self._send(401, {"error": "no token"})
            if LINEITEMS.match(path):
                item = json.loads(body)
                with platform.lock:
                    item["id"] = f"{platform.url}{path}/{uuid.uuid4().hex[:8]}"
                    platform.created_line_items += 1
                    platform.line_items[item["id"]] = item
                return self._send(201, item)
            if path.endswith("/scores"):
                line_item = platform.url + path[: -len("/scores")]
                if line_item not in platform.line_items:
                    return self._send(404, {"error": "no such line item"})
                with platform.lock:
                    if platform.fail_scores > 0:
                        platform.fail_scores -= 1
                        return self._send(503, {"error": "gradebook down"})
                    platform.scores.append({"line_item": line_item, **json.loads(body)})
                return self._send(200, {})
            return self._send(404, {"error": "not found"})

    return Handler
