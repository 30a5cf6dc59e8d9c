from django.urls import path

from lti import views

urlpatterns = [
    path("", views.setup, name="lti-setup"),
    path("jwks/", views.jwks, name="lti-jwks"),
    path("canvas.json", views.canvas_config, name="lti-canvas"),
    path("login/", views.login_initiation, name="lti-login"),
    path("login/<uuid:registration_uuid>/", views.login_initiation, name="lti-login-for"),
    path("launch/", views.launch, name="lti-launch"),
    path("launch/<uuid:registration_uuid>/", views.launch, name="lti-launch-for"),
    path("enter/<str:token>/", views.enter, name="lti-enter"),
    path("landed/<str:token>/", views.landed, name="lti-landed"),
    path("deep-link/<str:token>/", views.deep_link, name="lti-deep-link"),
]
