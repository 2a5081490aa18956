"""Server-rendered pages of the delivery layer (the React app replaces the landing page later)."""

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from marketplace.models import Patent


def home(request: HttpRequest) -> HttpResponse:
    by_source = Patent.objects.values("office", "source").annotate(n=Count("id")).order_by("office", "source")
    context = {"by_source": list(by_source), "total": Patent.objects.count()}
    return render(request, "backend/home.html", context)
