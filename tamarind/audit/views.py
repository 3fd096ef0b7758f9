from django.http import HttpRequest, HttpResponse


def audit_log(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def audit_export(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
