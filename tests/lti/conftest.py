"""Fixtures of the LTI tests: a platform emulator, registered with the course, and a
`launch` helper that goes through the OIDC login initiation as a browser would."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from lti.tool import ensure_key
from tests.lti.emulator import Platform


@pytest.fixture
def platform(db, monkeypatch):
    # The tool reaches the emulator on loopback, never through a proxy of the machine's.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    emulator = Platform()
    registration = LtiRegistration.objects.create(
        name="Emulated LMS",
        issuer=emulator.issuer,
        client_id=emulator.client_id,
        auth_url=emulator.auth_url,
        token_url=emulator.token_url,
        keyset_url=emulator.keyset_url,
    )
    LtiDeployment.objects.create(
        registration=registration, deployment_id=emulator.deployment_id, is_active=True
    )
    ensure_key()
    # What the platform reads from the tool's JWKS URL (served by `lti-jwks`).
    emulator.tool_jwks = Key.objects.as_jwks()
    emulator.registration = registration
    yield emulator
    emulator.close()


def start_login(client, platform) -> dict:
    """The platform's login initiation; the tool's redirect to the auth endpoint, as its
    query parameters (state, nonce, redirect_uri...)."""
    response = client.post(
        "/lti/login/",
        {
            "iss": platform.issuer,
            "login_hint": "hint",
            "target_link_uri": "http://testserver/lti/launch/",
            "client_id": platform.client_id,
            "lti_deployment_id": platform.deployment_id,
        },
    )
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == platform.auth_url
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def launch(client, platform, follow: bool = True, **claims):
    """A whole launch: login initiation, the signed id token posted to the redirect URI,
    then (`follow`) the tool's redirects to the page it lands on."""
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"], **claims)
    return client.post(
        params["redirect_uri"].replace("http://testserver", ""),
        {"id_token": token, "state": params["state"]},
        follow=follow,
    )
