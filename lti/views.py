"""The LTI 1.3 pages: login initiation, launch, the one-time entry into the course, the
deep-linking picker, and the staff page of URLs to give a platform."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool import views as lti_tool_views
from lti_tool.models import LtiLaunch, LtiRegistration, LtiUser
from lti_tool.utils import sync_data_from_launch
from pylti1p3.contrib.django import DjangoMessageLaunch
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem

from exercises.models import Exercise, Module, ProblemSet
from lti import grades, tool
from lti.middleware import SESSION_ORIGINS, SESSION_PARTITIONED
from lti.models import Placement

log = logging.getLogger(__name__)


def _all_platform_origins() -> list[str]:
    found = set()
    for registration in LtiRegistration.objects.active():
        found.update(tool.frame_origins(registration))
    return sorted(found)


def _refused(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    response = render(request, "lti/refused.html", {"message": message}, status=status)
    return tool.frameable(response, _all_platform_origins())


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login_initiation(request: HttpRequest, registration_uuid=None) -> HttpResponse:
    """Step 1 of a launch: the platform names itself; off to its auth endpoint with a
    state and a nonce, to come back to `lti-launch`."""
    name = "lti-launch-for" if registration_uuid else "lti-launch"
    args = [registration_uuid] if registration_uuid else []
    try:
        return tool.login_redirect(
            request, request.build_absolute_uri(reverse(name, args=args)), registration_uuid
        )
    except tool.LaunchRefused as e:
        return _refused(request, str(e), e.status)


@csrf_exempt
@require_POST
def launch(request: HttpRequest, registration_uuid=None) -> HttpResponse:
    """Step 2: the platform posts the signed id token. A resource link lands on what it
    places; a deep-linking request opens the picker."""
    try:
        message = tool.validate_launch(request, registration_uuid)
        return _launched(request, LtiLaunch(message))
    except tool.LaunchRefused as e:
        log.info("LTI launch refused: %s", e)
        return _refused(request, str(e), e.status)


def _launched(request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
    registration = lti_launch.registration
    origins = tool.frame_origins(registration)
    if not lti_launch.deployment.is_active:
        raise tool.LaunchRefused(
            "The course has not activated this deployment yet: its administrator "
            "activates it in the admin (LTI registrations).",
            status=403,
        )
    if not (lti_launch.is_resource_launch or lti_launch.is_deep_link_launch):
        raise tool.LaunchRefused("The course accepts resource links and deep linking only.")
    try:
        sync_data_from_launch(lti_launch)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        # Claims of the wrong shape (a string for an object, a missing member): the
        # platform's fault, told as such, never a server error.
        log.warning("LTI launch with malformed claims from %s", registration, exc_info=True)
        raise tool.LaunchRefused(
            f"The platform sent a launch the course cannot read ({e!r})."
        ) from e
    claims = lti_launch.get_launch_data()
    user = tool.account_for(claims["iss"], claims["sub"], claims)
    LtiUser.objects.filter(registration=registration, sub=claims["sub"]).exclude(
        auth_user=user
    ).update(auth_user=user)
    roles = lti_launch.roles_claim or []
    tool.apply_roles(user, roles)
    if lti_launch.is_deep_link_launch:
        if not tool.is_teaching(roles):
            raise tool.LaunchRefused("Only instructors place the course's content.", 403)
        token = tool.make_entry(user.pk, lti_launch.get_launch_id(), origins)
        return HttpResponseRedirect(reverse("lti-deep-link", args=[token]))
    target = tool.target_from_custom(
        claims.get("https://purl.imsglobal.org/spec/lti/claim/custom")
    ) or tool.target_from_link(
        claims.get("https://purl.imsglobal.org/spec/lti/claim/target_link_uri")
    )
    placement, _ = Placement.objects.get_or_create(resource_link=lti_launch.resource_link)
    if target is not None:
        wanted = {
            "module": target if isinstance(target, Module) else None,
            "problem_set": target if isinstance(target, ProblemSet) else None,
            "exercise": target if isinstance(target, Exercise) else None,
        }
        if any(getattr(placement, f"{k}_id") != (v.pk if v else None) for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(placement, key, value)
            placement.line_item = None
            placement.save()
    target = placement.target
    if placement.graded:
        claim = lti_launch.ags_claim or {}
        grades.ensure_line_item(placement, claim.get("lineitem"))
    token = tool.make_entry(user.pk, tool.target_url(target), origins)
    return HttpResponseRedirect(reverse("lti-enter", args=[token]))


@require_GET
def enter(request: HttpRequest, token: str) -> HttpResponse:
    """Step 3: sign in by the launch's one-time link, then see whether the session
    cookie comes back (it does not in an iframe that blocks third-party cookies)."""
    entry = tool.read_entry(token)
    if entry is None or "next" not in entry or entry["next"].startswith("lti1p3-launch-"):
        return _refused(
            request, "This link has expired or was used: launch again from your course."
        )
    user = get_user_model().objects.filter(pk=entry["user"], is_active=True).first()
    if user is None:
        return _refused(request, "This account is disabled.", 403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_ORIGINS] = entry["origins"]
    # Opened inside the LMS's frame: its cookies go out partitioned (lti.middleware).
    request.session[SESSION_PARTITIONED] = request.headers.get("Sec-Fetch-Dest") == "iframe"
    return tool.frameable(
        HttpResponseRedirect(reverse("lti-landed", args=[token])), entry["origins"]
    )


@require_GET
def landed(request: HttpRequest, token: str) -> HttpResponse:
    """Step 4: signed in (the cookie came back): on to the linked page. Not signed in
    (blocked in the frame): a page that opens the course in a new window."""
    entry = tool.read_entry(token)
    if entry is None:
        if request.user.is_authenticated:
            return HttpResponseRedirect(reverse("ex-course"))
        return _refused(
            request, "This link has expired or was used: launch again from your course."
        )
    if request.user.is_authenticated and request.user.pk == entry["user"]:
        tool.use_entry(token)
        return HttpResponseRedirect(entry["next"])
    response = render(request, "lti/new_window.html", {"url": reverse("lti-enter", args=[token])})
    return tool.frameable(response, entry["origins"])


# ---------------------------------------------------------------- deep linking


def _deep_link_launch(request: HttpRequest, entry: dict) -> DjangoMessageLaunch:
    return DjangoMessageLaunch.from_cache(
        entry["next"],
        request,
        tool.tool_config(),
        cookie_service=tool.ServerSideCookies(),
        launch_data_storage=tool.LaunchStorage(),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def deep_link(request: HttpRequest, token: str) -> HttpResponse:
    """The instructor picks a module, problem set or exercise; the platform gets a
    signed deep-linking response placing it. The one-time link stands for the session
    and the CSRF token here, which an iframe without cookies cannot have."""
    entry = tool.read_entry(token)
    if entry is None or not str(entry.get("next", "")).startswith("lti1p3-launch-"):
        return _refused(request, "This link has expired or was used: start again from your course.")
    try:
        message = _deep_link_launch(request, entry)
        settings_claim = message.get_launch_data().get(
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings", {}
        )
    except LtiException:
        return _refused(request, "This placement has expired: start again from your course.")
    modules = Module.objects.prefetch_related("problem_sets__exercises").order_by("order")
    error = ""
    if request.method == "POST":
        target = _picked(request.POST.get("target", ""))
        if target is None:
            error = "Pick a module, a problem set or an exercise."
        else:
            tool.use_entry(token)
            jwt = message.get_deep_link().get_response_jwt([_content_item(request, target)])
            return_url = settings_claim["deep_link_return_url"]
            response = render(request, "lti/deep_link_return.html", {"url": return_url, "jwt": jwt})
            origin = tool.origin(return_url)
            return tool.frameable(response, entry["origins"], [origin] if origin else [])
    response = render(
        request,
        "lti/deep_link.html",
        {"modules": modules, "error": error, "platform_title": settings_claim.get("title", "")},
        status=400 if error else 200,
    )
    return tool.frameable(response, entry["origins"])


def _picked(value: str):
    kind, _, slug = value.partition(":")
    model = {"module": Module, "problem_set": ProblemSet, "exercise": Exercise}.get(kind)
    if model is None or not slug:
        return None
    return model.objects.filter(slug=slug).first()


def _content_item(request: HttpRequest, target) -> DeepLinkResource:
    kind = {Module: "module", ProblemSet: "problem_set", Exercise: "exercise"}[type(target)]
    launch_url = request.build_absolute_uri(reverse("lti-launch"))
    item = (
        DeepLinkResource()
        .set_url(f"{launch_url}?{urlencode({kind: target.slug})}")
        .set_title(target.title)
        .set_custom_params({kind: target.slug})
    )
    if kind != "module":
        placement = Placement(
            problem_set=target if kind == "problem_set" else None,
            exercise=target if kind == "exercise" else None,
        )
        item.set_lineitem(
            LineItem()
            .set_label(target.title)
            .set_score_maximum(float(len(grades.exercises_of(placement)) or 1))
            .set_resource_id(grades.resource_id(placement))
            .set_tag(grades.TAG)
        )
    return item


# ---------------------------------------------------------------- staff


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys (django-lti's view), with one made if there is none yet:
    a platform may read them before the first launch."""
    tool.ensure_key()
    return lti_tool_views.jwks(request)


@require_GET
def canvas_config(request: HttpRequest) -> JsonResponse:
    """The tool's configuration as Canvas reads it (Developer Keys → LTI Key → Enter
    URL): the same URLs as `setup`, the services and the placements."""
    from django.conf import settings

    launch_url = request.build_absolute_uri(reverse("lti-launch"))
    deep_linking = [
        {"placement": placement, "message_type": "LtiDeepLinkingRequest",
         "target_link_uri": launch_url}
        for placement in ("link_selection", "assignment_selection")
    ]  # fmt: skip
    return JsonResponse(
        {
            "title": settings.SITE_NAME,
            "description": f"{settings.SITE_NAME}: auto-graded exercises",
            "oidc_initiation_url": request.build_absolute_uri(reverse("lti-login")),
            "target_link_uri": launch_url,
            "public_jwk_url": request.build_absolute_uri(reverse("lti-jwks")),
            "scopes": [
                grades.SCOPE_LINEITEM,
                grades.SCOPE_LINEITEM_READONLY,
                grades.SCOPE_RESULT,
                grades.SCOPE_SCORE,
                "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
            ],
            "extensions": [
                {
                    "platform": "canvas.instructure.com",
                    "domain": request.get_host(),
                    "privacy_level": "public",
                    "settings": {"text": settings.SITE_NAME, "placements": deep_linking},
                }
            ],
        }
    )


@staff_member_required
def setup(request: HttpRequest) -> HttpResponse:
    """What a platform's administrator enters to register the course as a tool."""
    tool.ensure_key()

    def url(name, *args):
        return request.build_absolute_uri(reverse(name, args=args))

    registrations = [
        {
            "registration": r,
            "login": url("lti-login-for", r.uuid),
            "launch": url("lti-launch-for", r.uuid),
            "deployments": list(r.deployments.all()),
        }
        for r in LtiRegistration.objects.order_by("name")
    ]
    return render(
        request,
        "lti/setup.html",
        {
            "login": url("lti-login"),
            "launch": url("lti-launch"),
            "jwks": url("lti-jwks"),
            "canvas": url("lti-canvas"),
            "registrations": registrations,
        },
    )
