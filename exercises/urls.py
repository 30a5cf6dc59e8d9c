from django.contrib.auth import views as auth_views
from django.urls import path

from exercises import accounts, preview, quiz, views

urlpatterns = [
    path("", views.course, name="ex-course"),
    path("signup/", views.signup, name="ex-signup"),
    path("login/", views.ThrottledLoginView.as_view(), name="ex-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="ex-logout"),
    path("password-reset/", accounts.password_reset, name="ex-password-reset"),
    path("password-reset/sent/", accounts.password_reset_sent, name="ex-password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts.password_reset_confirm,
        name="ex-password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        accounts.password_reset_complete,
        name="ex-password-reset-complete",
    ),
    path("help/", views.help_page, name="ex-help"),
    path("health/", views.health, name="ex-health"),
    path("modules/<slug:slug>/", views.module, name="ex-module"),
    path("sets/<slug:slug>/", views.problem_set, name="ex-problem-set"),
    path("sets/<slug:slug>/start/", quiz.start, name="ex-quiz-start"),
    path("sets/<slug:set_slug>/exercises/<slug:slug>/", views.exercise, name="ex-placed-exercise"),
    path(
        "sets/<slug:set_slug>/exercises/<slug:slug>/draft/", quiz.draft, name="ex-placed-quiz-draft"
    ),
    path("sets/<slug:set_slug>/exercises/<slug:slug>/run/", views.run_tests, name="ex-placed-run"),
    path("exercises/<slug:slug>/", views.exercise, name="ex-exercise"),
    path("exercises/<slug:slug>/draft/", quiz.draft, name="ex-quiz-draft"),
    path("exercises/<slug:slug>/preview/", preview.preview, name="ex-preview"),
    path("exercises/<slug:slug>/run/", views.run_tests, name="ex-run"),
    path("submissions/<int:pk>/", views.submission, name="ex-submission"),
    path("runs/<int:pk>/", views.run_result, name="ex-run-result"),
]
