import pytest

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.surveys.models import SurveyKind
from tamarind.surveys.services import survey_invitation_create
from tamarind.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_invitation_has_a_secret_link_and_is_audited() -> None:
    contact = ContactFactory()
    invitation = survey_invitation_create(contact=contact, kind=SurveyKind.NPS, source="journey")
    assert invitation.account_id == contact.account_id
    assert invitation.path == f"/s/{invitation.token}/" and len(invitation.token) >= 40
    assert invitation.expires_at is not None and invitation.expires_at > invitation.created_at
    assert AuditEvent.objects.filter(object_type="surveys.surveyinvitation", object_id=str(invitation.pk)).exists()


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        survey_invitation_create(contact=ContactFactory(), kind="stars")
