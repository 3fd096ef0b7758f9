from django.http import HttpRequest, HttpResponse


def import_list(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
