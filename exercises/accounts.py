"""Students' accounts: signing up with an e-mail address, and resetting a forgotten
password through a link sent to it.

The reset pages are Django's own views with the site's templates. Their template names
are not Django's defaults: the admin (and auth, for the subject) ship templates under those
names, and they come first among the installed apps.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy

from exercises import ratelimit


def refused_form(view, refusal: ratelimit.Refusal):
    """A form view's page again with a rate limit's refusal above its form: 429, with
    Retry-After."""
    form = view.get_form()
    form.add_error(None, refusal.message)
    response = view.render_to_response(view.get_context_data(form=form), status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


class SignUpForm(UserCreationForm):
    """A username, an e-mail address no other account has (in any case), a password."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="Where a link to reset your password is sent. It is never shown to others.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(
                "An account with this e-mail address exists already. Log in, or reset its "
                "password if you have forgotten it.",
                code="duplicate_email",
            )
        return email


class PasswordResetForm(auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for the e-mail address and sends the link. Each request counts against the
    address's sign-in budget: the form sends e-mail to whatever address it is given."""

    form_class = PasswordResetForm
    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_email_subject.txt"
    success_url = reverse_lazy("ex-password-reset-sent")
    http_method_names = ["get", "post"]

    def get_extra_email_context(self) -> dict:
        # Django's context names the site by its host; the e-mail names the course.
        return {"site_name": settings.SITE_NAME, "valid_for": link_lifetime()}

    def post(self, request, *args, **kwargs):
        refusal = ratelimit.login(request)
        if refusal is not None:
            return refused_form(self, refusal)
        self.extra_email_context = self.get_extra_email_context()
        return super().post(request, *args, **kwargs)


def link_lifetime() -> str:
    """How long a reset link works, in words: "24 hours", "30 minutes"."""
    seconds = settings.PASSWORD_RESET_TIMEOUT
    if seconds >= 3600:
        hours = round(seconds / 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_sent.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "valid_for": link_lifetime()}


password_reset = PasswordResetView.as_view()
password_reset_sent = PasswordResetSentView.as_view()
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="registration/password_reset_new.html",
    http_method_names=["get", "post"],
    success_url=reverse_lazy("ex-password-reset-complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_finished.html"
)
