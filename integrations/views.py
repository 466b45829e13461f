from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.permissions import portal_view


@require_GET
@portal_view("integrations")
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/section_index.html",
        {"title": _("Integrations"), "blurb": _("API tokens, webhooks and imports will appear here.")},
    )
