from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from backend.health import healthz
from backend.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # CSRF: the API is for token-authenticated clients too; cookie-session writes are checked per mutation.
    path("graphql/", csrf_exempt(GraphQLView.as_view(graphiql=settings.DEBUG)), name="graphql"),
]
