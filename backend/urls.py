from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from backend.api.core.view import ApiView
from backend.health import healthz
from backend.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # CSRF is decided in ApiView: checked when a session cookie is sent, moot for bearer tokens.
    path("graphql/", csrf_exempt(ApiView.as_view(graphiql=settings.DEBUG)), name="graphql"),
]
