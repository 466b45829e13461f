from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.permissions import portal_view


@portal_view("analytics")
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/section_index.html",
        {"title": _("Analytics"), "blurb": _("KPIs and reports will appear here.")},
    )
