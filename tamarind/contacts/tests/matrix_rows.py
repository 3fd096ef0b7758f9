"""Permission-matrix rows for the contact routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target: a contact of ``book.account`` (region east; TAM ``book.tam``). Contacts are read by the account's
readers and written by its writers (admin, the region's manager, its TAM); the other readers get 403 on writes,
west's people (outsiders) 404. The API answers the same, with 401 for no credentials.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, Row, account_write, everyone, only


def _contact(b: Any, t: dict[str, Any]) -> int:
    if "contact" not in t:
        from tamarind.contacts.models import Contact
        from tamarind.testing.factories import ContactFactory

        # Other apps' rows (webinars) may have made the account's matrix contact already: emails are unique per
        # account, so share it rather than collide.
        t["contact"] = Contact.objects.filter(account=b.account, email="matrix@customer.example").first() or (
            ContactFactory(account=b.account, name="Matrix Contact", email="matrix@customer.example")
        )
    return int(t["contact"].pk)


def api(cells: dict[str, int]) -> dict[str, int]:
    return {**cells, "anonymous": 401}


READ = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404)
HX = {"HX-Request": "true"}

ROWS: list[Row] = [
    Row("contacts:missing_admin", "get", lambda b, t: "/contacts/missing-admin/", everyone(200)),
    Row("contacts:new", "get", lambda b, t: f"/contacts/account/{b.account.pk}/new/", account_write(200)),
    Row(
        "contacts:new",
        "post",
        lambda b, t: f"/contacts/account/{b.account.pk}/new/",
        account_write(200),
        data=lambda b, t: {"name": "Matrix New", "email": "matrix-new@customer.example", "personas": ["admin"]},
        json=False,
        headers=HX,
    ),
    Row("contacts:edit", "get", lambda b, t: f"/contacts/{_contact(b, t)}/edit/", account_write(200)),
    Row(
        "contacts:edit",
        "post",
        lambda b, t: f"/contacts/{_contact(b, t)}/edit/",
        account_write(200),
        data=lambda b, t: {"name": "Matrix Edited", "email": "matrix@customer.example", "title": "CTO"},
        json=False,
        headers=HX,
    ),
    Row(
        "contacts:delete",
        "post",
        lambda b, t: f"/contacts/{_contact(b, t)}/delete/",
        account_write(302),
        json=False,
    ),
    Row("api:contact_list", "get", lambda b, t: "/api/v1/contacts", api(everyone(200)), api=True),
    Row(
        "api:contact_create",
        "post",
        lambda b, t: "/api/v1/contacts",
        api(account_write(201)),
        data=lambda b, t: {"account": b.account.pk, "name": "Matrix API", "email": "matrix-api@customer.example"},
        api=True,
    ),
    Row("api:contact_detail", "get", lambda b, t: f"/api/v1/contacts/{_contact(b, t)}", api(READ), api=True),
    Row(
        "api:contact_update",
        "patch",
        lambda b, t: f"/api/v1/contacts/{_contact(b, t)}",
        api(account_write(200)),
        data=lambda b, t: {"title": "Matrix title"},
        api=True,
    ),
    Row(
        "api:contact_delete",
        "delete",
        lambda b, t: f"/api/v1/contacts/{_contact(b, t)}",
        api(account_write(204)),
        api=True,
    ),
    Row(
        "api:contact_opt_out",
        "post",
        lambda b, t: f"/api/v1/contacts/{_contact(b, t)}/opt-out",
        api(account_write(200)),
        api=True,
    ),
    Row(
        "api:contact_opt_in",
        "post",
        lambda b, t: f"/api/v1/contacts/{_contact(b, t)}/opt-in",
        api(account_write(200)),
        api=True,
    ),
]
