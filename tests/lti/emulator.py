"""An LTI 1.3 platform for the tests: what an LMS does towards the tool.

It has its own RSA key and serves its key set on loopback (a threaded http.server), signs
id tokens for launches and deep-linking requests, answers the OAuth2 client-credentials
token endpoint (checking the tool's signed assertion against the tool's key set), keeps
AGS line items, records the scores posted to them, serves a Names and Role
Provisioning roster, and checks the tool's signed deep-linking responses.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import secrets
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

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

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tool: str = "http://testserver"):
        self.tool = tool.rstrip("/")
        self.tool_jwks_url = ""  # when set, the tool's key set is read from it as needed
        self.deep_link_responses: list[dict] = []
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
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.url = f"http://{host}:{self.server.server_address[1]}"
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
            LTI + "target_link_uri": self.tool + "/lti/launch/",
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
        key = self._tool_key(jwt.get_unverified_header(token)["kid"])
        return jwt.decode(
            token,
            RSAAlgorithm.from_jwk(json.dumps(key)),
            algorithms=["RS256"],
            audience=self.issuer,
            issuer=self.client_id,
        )

    # ------------------------------------------------------------ services
    def _tool_key(self, kid: str) -> dict:
        """The tool's key `kid`, from its key set as last read; read again (when its URL
        is known) for a key not seen yet, as platforms do after a rotation."""
        found = [k for k in self.tool_jwks["keys"] if k["kid"] == kid]
        if not found and self.tool_jwks_url:
            with urllib.request.urlopen(self.tool_jwks_url, timeout=5) as answer:
                self.tool_jwks = json.load(answer)
            found = [k for k in self.tool_jwks["keys"] if k["kid"] == kid]
        if not found:
            raise LookupError(f"no tool key {kid!r}")
        return found[0]

    def course_page(self, user: str, target: str, window: bool = False) -> str:
        """A course page of the platform with the tool in an iframe (`window`: a link
        that opens it in a window of its own): the browser starts the launch at the
        tool's login initiation URL, as an LMS page does."""
        query = urlencode(
            {
                "iss": self.issuer,
                "login_hint": user,
                "target_link_uri": self.tool + "/lti/launch/",
                "lti_message_hint": target,
                "client_id": self.client_id,
                "lti_deployment_id": self.deployment_id,
            }
        )
        src = html.escape(f"{self.tool}/lti/login/?{query}")
        if window:
            tool = f'<a href="{src}" target="_blank">Open the course server</a>'
        else:
            tool = (
                f'<iframe id="tool" title="Course server" src="{src}" width="1000" '
                'height="700"></iframe>'
            )
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>Emulated course</title></head><body><h1>Emulated course</h1>"
            f"{tool}</body></html>"
        )

    def auth_page(self, params: dict) -> tuple[int, str]:
        """The platform's OIDC auth endpoint: the signed id token, posted by the browser
        to the tool's redirect URI. The message hint names what the link shows
        (`problem_set:<slug>`, `exercise:<slug>`, `module:<slug>`) or `deep-link`; a
        login hint starting with `teacher` launches an instructor."""
        if params.get("client_id") != self.client_id:
            return 400, "unknown client_id"
        if not params.get("redirect_uri", "").startswith(self.tool + "/"):
            return 400, "redirect_uri is not the tool's"
        user = params.get("login_hint", "learner-1")
        hint = params.get("lti_message_hint", "")
        claims = {"sub": user, "roles": [INSTRUCTOR if user.startswith("teacher") else LEARNER]}
        if hint == "deep-link":
            claims["message_type"] = "LtiDeepLinkingRequest"
        elif ":" in hint:
            kind, _, slug = hint.partition(":")
            claims["custom"] = {kind: slug}
            claims["resource_link_id"] = "link-" + hint
        token = self.id_token(nonce=params.get("nonce", ""), **claims)
        return 200, (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Launching</title>"
            f'</head><body><form method="post" action="{html.escape(params["redirect_uri"])}">'
            f'<input type="hidden" name="id_token" value="{token}">'
            f'<input type="hidden" name="state" value="{html.escape(params.get("state", ""))}">'
            '<button type="submit">Launch</button></form>'
            "<script>document.forms[0].submit()</script></body></html>"
        )

    def _check_assertion(self, assertion: str) -> None:
        key = self._tool_key(jwt.get_unverified_header(assertion)["kid"])
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

        def _page(self, status: int, text: str):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
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
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            if path == "/jwks":
                return self._send(200, platform.jwks())
            if path == "/course":
                page = platform.course_page(
                    query.get("user", "learner-1"),
                    query.get("target", ""),
                    window=bool(query.get("window")),
                )
                return self._page(200, page)
            if path == "/auth":
                return self._page(*platform.auth_page(query))
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
            if path == "/deep-link-return":
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                try:
                    claims = platform.accept_deep_link(form.get("JWT", ""))
                except Exception as e:  # noqa: BLE001 - any fault is the tool's
                    return self._page(400, f"deep-linking response refused: {html.escape(str(e))}")
                platform.deep_link_responses.append(claims)
                items = claims.get(DL + "content_items", [])
                return self._page(200, f"<p>Placed: {html.escape(json.dumps(items))}</p>")
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


def main() -> None:
    """Run the emulator by hand, against a running course server:

        python -m tests.lti.emulator --tool http://127.0.0.1:8000 --register

    then open http://localhost:8900/course?user=learner-1&target=problem_set:<slug>
    (the platform on `localhost`, the tool on `127.0.0.1`: two sites, so that the tool's
    cookies in the iframe are third-party ones). Scores it receives are printed.
    """
    parser = argparse.ArgumentParser(description="An LTI 1.3 platform for trying the tool.")
    parser.add_argument("--tool", default="http://127.0.0.1:8000")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--register", action="store_true", help="register it with the tool's database"
    )
    options = parser.parse_args()
    platform = Platform(host=options.host, port=options.port, tool=options.tool)
    platform.tool_jwks_url = options.tool.rstrip("/") + "/lti/jwks/"
    if options.register:
        import os

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseserver.settings")
        django.setup()
        from lti_tool.models import LtiDeployment, LtiRegistration

        registration, _ = LtiRegistration.objects.update_or_create(
            issuer=platform.issuer,
            client_id=platform.client_id,
            defaults={
                "name": "LTI emulator",
                "auth_url": platform.auth_url,
                "token_url": platform.token_url,
                "keyset_url": platform.keyset_url,
            },
        )
        LtiDeployment.objects.update_or_create(
            registration=registration,
            deployment_id=platform.deployment_id,
            defaults={"is_active": True},
        )
    print(f"issuer / platform id  {platform.issuer}")
    print(f"client id             {platform.client_id}")
    print(f"deployment id         {platform.deployment_id}")
    print(f"auth (login) URL      {platform.auth_url}")
    print(f"access token URL      {platform.token_url}")
    print(f"key set URL           {platform.keyset_url}")
    print(f"try                   {platform.url}/course?user=learner-1&target=problem_set:<slug>")
    # The key is new at every start: a registration made before keeps working, the tool
    # reads the key set again.
    seen = 0
    try:
        while True:
            time.sleep(1)
            for score in platform.scores[seen:]:
                print("score", json.dumps(score), flush=True)
            seen = len(platform.scores)
    except KeyboardInterrupt:
        platform.close()


if __name__ == "__main__":
    main()
