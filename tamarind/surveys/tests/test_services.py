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


# --- answers ---------------------------------------------------------------------------------------------------
import datetime as dt  # noqa: E402

from django.utils import timezone  # noqa: E402

from tamarind.actions.models import Task, TaskType  # noqa: E402
from tamarind.surveys.models import SurveyAnswer  # noqa: E402
from tamarind.surveys.services import survey_answer_submit, survey_invitation_revoke  # noqa: E402


def _invite(book, kind=SurveyKind.NPS):  # type: ignore[no-untyped-def]
    return survey_invitation_create(contact=ContactFactory(account=book.account), kind=kind, actor=book.tam)


def test_answer_once_then_edit_within_7_days_not_after(book) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(book)
    t0 = timezone.now()
    answer = survey_answer_submit(invitation=invitation, score="9", comment=" Good ", now=t0)
    assert (answer.score, answer.comment, answer.edits) == (9, "Good", 0)
    edited = survey_answer_submit(invitation=invitation, score=10, comment="", now=t0 + dt.timedelta(days=6, hours=23))
    assert edited.pk == answer.pk and edited.score == 10 and edited.edits == 1
    assert SurveyAnswer.objects.filter(invitation=invitation).count() == 1
    with pytest.raises(ValidationFailed):
        survey_answer_submit(invitation=invitation, score=3, now=t0 + dt.timedelta(days=7))
    assert SurveyAnswer.objects.get(pk=answer.pk).score == 10


def test_expired_or_revoked_link_takes_no_answer(book) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(book)
    with pytest.raises(ValidationFailed, match="expired"):
        survey_answer_submit(invitation=invitation, score=5, now=invitation.expires_at)
    survey_invitation_revoke(actor=book.tam, invitation=invitation)
    with pytest.raises(ValidationFailed, match="revoked"):
        survey_answer_submit(invitation=invitation, score=5)
    assert not SurveyAnswer.objects.exists()
    assert AuditEvent.objects.filter(object_id=str(invitation.pk), action="update").count() == 1


@pytest.mark.parametrize("score", [-1, 11, "11", "x", "", None, True, 3.5, "1000"])
def test_score_off_the_scale_is_refused(book, score) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="from 0 to 10"):
        survey_answer_submit(invitation=_invite(book), score=score)


def test_csat_scale_and_comment_cap(book) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="from 1 to 5"):
        survey_answer_submit(invitation=_invite(book, SurveyKind.CSAT), score=0)
    with pytest.raises(ValidationFailed, match="2000"):
        survey_answer_submit(invitation=_invite(book, SurveyKind.CSAT), score=4, comment="x" * 2001)


def test_answers_are_data_not_audit_events(book) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(book)
    before = AuditEvent.objects.count()
    survey_answer_submit(invitation=invitation, score=8)
    assert AuditEvent.objects.count() == before


def test_poor_score_raises_exactly_one_task_for_the_tam(book) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(book)
    survey_answer_submit(invitation=invitation, score=6, comment="Slow support")
    survey_answer_submit(invitation=invitation, score=2, comment="Even slower")  # an edit: still one task
    tasks = Task.objects.filter(type=TaskType.SURVEY_FOLLOW_UP, account=book.account)
    assert tasks.count() == 1
    task = tasks.get()
    assert task.owner_id == book.tam.pk and task.why["score"] == 6 and "NPS 6 on 0-10" in task.why["why"]


@pytest.mark.parametrize(("kind", "score", "raised"), [("nps", 7, False), ("csat", 3, False), ("csat", 2, True)])
def test_only_poor_scores_raise_a_task(book, kind, score, raised) -> None:  # type: ignore[no-untyped-def]
    survey_answer_submit(invitation=_invite(book, kind), score=score)
    assert Task.objects.filter(type=TaskType.SURVEY_FOLLOW_UP).exists() is raised


def test_poor_threshold_is_a_setting(book, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TAMARIND_SURVEYS = {"nps_poor_max": 4, "csat_poor_max": 2}
    survey_answer_submit(invitation=_invite(book), score=5)
    assert not Task.objects.filter(type=TaskType.SURVEY_FOLLOW_UP).exists()


def test_program_is_kept(book) -> None:  # type: ignore[no-untyped-def]
    inv = survey_invitation_create(contact=ContactFactory(account=book.account), kind="nps", program="digital-6m")
    assert inv.program == "digital-6m"
