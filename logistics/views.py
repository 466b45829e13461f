from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.permissions import portal_view


@require_GET
@portal_view("logistics")
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/section_index.html",
        {"title": _("Logistics"), "blurb": _("Carriers, shipments and delivery routes will appear here.")},
    )
