from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.permissions import portal_view


@portal_view("orders")
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/section_index.html",
        {"title": _("Orders"), "blurb": _("Sales orders from every channel will appear here.")},
    )
