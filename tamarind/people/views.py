from django.http import HttpRequest, HttpResponse


def people_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def person_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def person_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def person_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def region_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def region_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def region_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def region_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def token_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def token_revoke(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
