"""The tool's side of an LTI 1.3 launch, on pylti1p3 and django-lti.

pylti1p3 validates the OIDC state with a cookie it sets on the login response, and keeps
its nonces under a session id it also puts in a cookie. Inside an LMS's iframe those are
third-party cookies, which Safari and Chrome block. Here the state is kept server-side
instead, in the cache under the state value itself (random, given to the platform and
sent back with the id token), and each nonce is taken once: a replayed id token is
refused even though its state is still known.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import IntegrityError, transaction
from lti_tool.models import Key, LtiRegistration
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.contrib.django.launch_data_storage.cache import DjangoCacheDataStorage
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException, OIDCException

from exercises.models import Exercise, Module, ProblemSet
from lti.models import Account

# Seconds a platform has to send the launch after the login initiation.
STATE_SECONDS = 300
# Seconds a launch's one-time sign-in link works.
ENTRY_SECONDS = 300
INSTRUCTORS = "Instructors"
# Context roles (full URIs and the short forms platforms also send) that make an
# instructor here. Everyone else is a student.
TEACHING_ROLES = {
    "Instructor",
    "Administrator",
    "ContentDeveloper",
    "TeachingAssistant",
}


class LaunchRefused(Exception):
    """A launch the tool will not accept; the message is shown to the user."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# Seconds to wait for a platform (its key set, token and service endpoints): a platform
# that hangs must not hold a web process or the housekeeping worker.
PLATFORM_TIMEOUT = 10


class PlatformSession(requests.Session):
    """pylti1p3's HTTP session, with a timeout on every request (it sets none)."""

    def __init__(self):
        super().__init__()
        self.headers["User-Agent"] = "course-server LTI tool"

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", PLATFORM_TIMEOUT)
        return super().request(*args, **kwargs)


class ServerSideCookies(CookieService):
    """pylti1p3's cookie service, kept in the cache: what it would set as a cookie
    (only the OIDC state, named by its own value) is read back by that name."""

    def __init__(self, request=None):
        self._request = request

    def _key(self, name: str) -> str:
        return "lti-state:" + hashlib.sha256(name.encode()).hexdigest()

    def get_cookie(self, name: str):
        return cache.get(self._key(name))

    def set_cookie(self, name: str, value, exp=STATE_SECONDS) -> None:
        cache.set(self._key(name), value, min(exp or STATE_SECONDS, STATE_SECONDS))

    def update_response(self, response) -> None:
        pass

    def forget(self, name: str) -> None:
        cache.delete(self._key(name))


class LaunchStorage(DjangoCacheDataStorage):
    """The cache, without the session-id cookie pylti1p3 would put in front of keys:
    nonces and launches are found by their own random values."""

    def get_session_cookie_name(self):
        return None


def tool_config(registration_uuid=None) -> DjangoToolConfig:
    ensure_key()
    return DjangoToolConfig(registration_uuid)


def ensure_key() -> Key:
    """The tool's signing key: the newest active one, made if there is none yet."""
    try:
        return Key.objects.active().latest()
    except Key.DoesNotExist:
        return Key.objects.generate()


def login_redirect(request, launch_url: str, registration_uuid=None):
    """The response to a platform's login initiation: off to its auth endpoint."""
    params = request.POST if request.method == "POST" else request.GET
    for name in ("iss", "login_hint", "target_link_uri"):
        if not params.get(name):
            raise LaunchRefused(f"The login initiation has no {name}.")
    login = DjangoOIDCLogin(
        request,
        tool_config(registration_uuid),
        cookie_service=ServerSideCookies(),
        launch_data_storage=LaunchStorage(),
    )
    try:
        return login.disable_check_cookies().redirect(launch_url)
    except (LtiException, OIDCException) as e:
        raise LaunchRefused(refusal(e)) from e


class Launch(DjangoMessageLaunch):
    def validate(self):
        super().validate()
        # pylti1p3 checks that the nonce was issued; here it is also used up, once the
        # token is known to be the platform's (a forged one cannot spend it).
        nonce = self._get_jwt_body().get("nonce")
        used = "lti-nonce-used:" + hashlib.sha256(nonce.encode()).hexdigest()
        if not cache.add(used, 1, 86400):
            raise LtiException("Invalid Nonce: this launch has already been used")
        # The state has served: no second launch can start from it.
        self._cookie_service.forget(self._get_request_param("state"))
        return self


def validate_launch(request, registration_uuid=None) -> Launch:
    if not request.POST.get("id_token"):
        raise LaunchRefused("The launch has no id_token.")
    launch = Launch(
        request,
        tool_config(registration_uuid),
        cookie_service=ServerSideCookies(),
        launch_data_storage=LaunchStorage(),
        requests_session=PlatformSession(),
    )
    try:
        launch.validate()
    except LtiException as e:
        raise LaunchRefused(refusal(e)) from e
    return launch


REFUSALS = [
    (
        "State not found",
        "This launch has expired or was not started by the course: launch it again from your course.",
    ),
    ("Invalid Nonce", "This launch has already been used: launch it again from your course."),
    ("Signature has expired", "This launch has expired: launch it again from your course."),
    (
        "Could not find registration",
        "This platform or client id is not registered with the course.",
    ),
    ("Registration not found", "This platform or client id is not registered with the course."),
    ("Client id not registered", "This platform or client id is not registered with the course."),
    ("Signature verification failed", "The launch's signature does not match the platform's key."),
    ("Unable to find public key", "The launch's signature does not match the platform's key."),
    ("deployment", "This deployment is not registered with the course."),
]


def refusal(error: Exception) -> str:
    """A message for the person launching, from pylti1p3's reason."""
    text = str(error)
    for found, message in REFUSALS:
        if found.lower() in text.lower():
            return message
    return f"The launch could not be accepted: {text}"


# ---------------------------------------------------------------- accounts


def username_for(issuer: str, subject: str) -> str:
    """A username from (issuer, subject) that no person would choose and no other
    platform's user can have."""
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    return f"lti-{digest[:24]}"


def account_for(issuer: str, subject: str, claims: dict):
    """The user for this platform's subject: found, or made on the first launch. Name
    and e-mail follow the platform's claims; no password (they sign in through the LMS)."""
    User = get_user_model()
    names = {
        "first_name": (claims.get("given_name") or "")[:150],
        "last_name": (claims.get("family_name") or "")[:150],
        "email": (claims.get("email") or "")[:254],
    }
    account = Account.objects.filter(issuer=issuer, subject=subject).select_related("user").first()
    if account is None:
        try:
            with transaction.atomic():
                username = username_for(issuer, subject)
                if User.objects.filter(username__iexact=username).exists():
                    # Taken by someone who signed up under it: theirs is never this
                    # platform user's account.
                    username = f"{username}-{secrets.token_hex(4)}"
                user = User(username=username, **names)
                user.set_unusable_password()
                user.save()
                account = Account.objects.create(issuer=issuer, subject=subject, user=user)
        except IntegrityError:  # the same person's other launch, at the same moment
            account = Account.objects.select_related("user").get(issuer=issuer, subject=subject)
    user = account.user
    changed = [f for f, v in names.items() if v and getattr(user, f) != v]
    if changed:
        for field in changed:
            setattr(user, field, names[field])
        user.save(update_fields=changed)
    return user


def context_role(role: str) -> str | None:
    """The principal context role an LTI role names: `Instructor` for
    `.../membership#Instructor`, for its sub-role `.../membership/Instructor#TeachingAssistant`
    and for the short `Instructor`; `Learner` for `.../membership/Learner#Instructor` (a
    sub-role of Learner). None for institution and system roles, which say nothing of
    the course."""
    if "/institution/" in role or "/system/" in role:
        return None
    if "/membership/" in role:
        return role.split("/membership/", 1)[1].split("#", 1)[0]
    return role.rsplit("#", 1)[-1]


def is_teaching(roles: list[str]) -> bool:
    """Whether these LTI roles make an instructor here."""
    return any(
        context_role(role) in TEACHING_ROLES for role in roles or [] if isinstance(role, str)
    )


def apply_roles(user, roles: list[str]) -> None:
    """An instructor's launch makes them staff in the Instructors group. A student's
    launch changes nothing: staff rights are withdrawn by an administrator, never by an
    LMS."""
    if not is_teaching(roles) or user.is_superuser:
        return
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    user.groups.add(group)


# ---------------------------------------------------------------- targets


def target_from_custom(custom: dict | None):
    """The module, problem set or exercise a resource link names in its custom
    parameters (`exercise`, `problem_set` or `module`, by slug), or None."""
    if not isinstance(custom, dict):
        custom = {}
    for name, model in (("exercise", Exercise), ("problem_set", ProblemSet), ("module", Module)):
        slug = custom.get(name)
        if slug:
            found = model.objects.filter(slug=slug).first()
            if found is None:
                raise LaunchRefused(
                    f"This link names the {name.replace('_', ' ')} {slug!r}, which the course "
                    "does not have (any more). Ask your instructor to place it again.",
                    status=404,
                )
            return found
    return None


def target_from_link(url: str | None):
    """The content a target link URI names in its query (`/lti/launch/?problem_set=...`,
    as deep linking writes it), for a platform that drops custom parameters."""
    from urllib.parse import parse_qs

    query = parse_qs(urlsplit(url or "").query) if isinstance(url, str) else {}
    return target_from_custom({name: values[0] for name, values in query.items()})


def target_url(target) -> str:
    from django.urls import reverse

    if isinstance(target, Exercise):
        return reverse("ex-exercise", args=[target.slug])
    if isinstance(target, ProblemSet):
        return reverse("ex-problem-set", args=[target.slug])
    if isinstance(target, Module):
        return reverse("ex-module", args=[target.slug])
    return reverse("ex-course")


# ---------------------------------------------------------------- framing


def origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme in {"http", "https"} and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def frame_origins(registration: LtiRegistration) -> list[str]:
    """The origins that may frame the LTI pages for this platform: its issuer's and its
    login page's, and LTI_FRAME_ANCESTORS."""
    found = [origin(registration.issuer), origin(registration.auth_url)]
    found += settings.LTI_FRAME_ANCESTORS
    return sorted({o for o in found if o})


def frameable(response, origins: list[str], form_action: list[str] = ()):
    """The response may be framed by these origins only (CSP frame-ancestors), in
    place of the site's 'none'; its forms may also post to `form_action`. A policy the
    view set itself keeps its other directives."""
    from courseserver.middleware import policy_header

    policy = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()}
    own = response.headers.get("Content-Security-Policy")
    if own:
        policy = {}
        for directive in own.split(";"):
            name, *sources = directive.split()
            policy[name] = sources
    policy["frame-ancestors"] = origins or ["'none'"]
    if form_action:
        policy["form-action"] = [*policy.get("form-action", []), *form_action]
    response.headers["Content-Security-Policy"] = policy_header(policy)
    # X-Frame-Options has no way to name an origin; CSP frame-ancestors takes its place.
    response.xframe_options_exempt = True
    if "X-Frame-Options" in response.headers:
        del response.headers["X-Frame-Options"]
    return response


# ---------------------------------------------------------------- one-time entry


def make_entry(user_id: int, next_url: str, origins: list[str]) -> str:
    token = secrets.token_urlsafe(32)
    cache.set(
        "lti-entry:" + token,
        {"user": user_id, "next": next_url, "origins": origins},
        ENTRY_SECONDS,
    )
    return token


def read_entry(token: str) -> dict | None:
    return cache.get("lti-entry:" + token)


def use_entry(token: str) -> None:
    cache.delete("lti-entry:" + token)
