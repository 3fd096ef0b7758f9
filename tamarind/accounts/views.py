from django.http import HttpRequest, HttpResponse


def account_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def account_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def account_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def account_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


def account_set_tam(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise NotImplementedError
