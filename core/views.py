from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views import csrf
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from core import health as health_checks
from core.exceptions import error_body
from core.middleware import error_response, wants_json
from core.selectors import dashboard_summary


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "core/dashboard.html", {"summary": dashboard_summary(user=request.user)})


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on their own; point them at the hashed static icon."""
    return HttpResponseRedirect(static("img/favicon.svg"))


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, body = health_checks.health()
    return JsonResponse(body, status=200 if healthy else 503)


# --- error handlers (scoms.urls handler400/403/404/500): JSON in the one shape for API clients --
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django refused the request before a view (SuspiciousOperation, bad Host…)."""
    return error_response(request, status=400, detail=_("The request is malformed."), code="bad_request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        detail = _("You do not have permission to perform this action.")
        return JsonResponse(error_body(detail, code="permission_denied"), status=403)
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(error_body(_("Not found."), code="not_found"), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        detail = _("A server error occurred. It was logged; nothing was half-saved.")
        return JsonResponse(error_body(detail, code="server_error"), status=500)
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: Django's page for people, the one shape for API clients."""
    if wants_json(request):
        detail = _("CSRF verification failed: %(reason)s") % {"reason": reason}
        return JsonResponse(error_body(detail, code="csrf_failed"), status=403)
    return csrf.csrf_failure(request, reason=reason)


@csrf_exempt
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any /api/ URL no route matches, whatever the method: a JSON 404, never Django's page
    (under DEBUG that page lists every URL pattern), and no slash-appending redirect."""
    detail = _("No API endpoint at this URL. API URLs end with a slash, as in /api/v1/orders/.")
    return JsonResponse(error_body(detail, code="not_found"), status=404)
