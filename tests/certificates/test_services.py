"""Issuing, codes, revocation and reissue as rules, on both databases."""

import pytest
import sqlalchemy as sa

from lms.certificates import changes, codes, services, verification
from lms.certificates.models import Certificate, CertificateEvent
from lms.core.errors import Conflict, NotFound
from lms.core.outbox import OutboxItem
from lms.progress.models import Enrollment
from tests.certificates.conftest import complete_course
from tests.conftest import log_in
from tests.factories import MemberFactory, UserFactory

# -- codes ------------------------------------------------------------------------------


def test_codes_are_16_crockford_characters_with_a_check_character():
    made = {codes.new_code() for _ in range(500)}
    assert len(made) == 500
    for code in made:
        assert len(code) == 16 and set(code) <= set(codes.ALPHABET)
        assert not set(code) & set("ILOU")
        assert codes.normalize(code) == code
        shown = codes.display(code)
        assert len(shown) == 19 and shown.count("-") == 3
        assert codes.normalize(shown.lower()) == code
        assert codes.normalize(f"  {shown[:9]} {shown[10:].lower()} ") == code


def test_a_typo_or_a_swap_is_not_a_code():
    code = codes.new_code()
    for position in range(16):
        for char in codes.ALPHABET:
            if char != code[position]:
                typo = code[:position] + char + code[position + 1 :]
                assert codes.normalize(typo) is None
    swaps = [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(15)
        if code[i] != code[i + 1]
    ]
    caught = sum(codes.normalize(swap) is None for swap in swaps)
    assert caught >= len(swaps) - 1  # Luhn mod N misses only one rare pair


def test_letters_people_confuse_are_read_as_crockford_says():
    code = "0" + codes.new_code()[1:]
    code = code[:-1] + codes._check_character(code[:-1])
    assert codes.normalize("o" + code[1:]) == code
    assert codes.normalize("O" + code[1:]) == code


@pytest.mark.parametrize(
    "typed", ["", "ABCD", "A" * 17, "ABCD-EFGH-JKMN-PQR!", "ü" * 16, "x" * 5000, None, 12]
)
def test_malformed_codes_are_none(typed):
    assert codes.normalize(typed) is None


# -- issuing ----------------------------------------------------------------------------


def test_completing_a_course_issues_one_certificate_with_a_snapshot(
    db, certificate, learner, org, course
):
    enrollment = db.session.get(Enrollment, certificate.enrollment_id)
    assert certificate.user_id == learner.id
    assert certificate.learner_name == "Łukasz Øster"
    assert certificate.learner_email == learner.email
    assert certificate.course_slug == "tiny-course"
    assert certificate.course_title == course.version.title
    assert certificate.version_label == course.version.label
    assert certificate.content_hash == course.version.content_hash
    assert certificate.organization_name == "Example University OSPO"
    assert certificate.completed_at == enrollment.completed_at
    assert certificate.issued_at >= certificate.completed_at
    assert codes.normalize(certificate.code) == certificate.code
    assert certificate.status_index >= 1
    (event,) = db.session.scalars(sa.select(CertificateEvent)).all()
    assert (event.action, event.actor_id) == ("issued", None)


def test_the_pdf_is_rendered_after_the_commit_by_the_outbox(db, certificate):
    row = db.session.scalar(sa.select(OutboxItem).where(OutboxItem.kind == "certificate.render"))
    assert row.payload == {"certificate_id": certificate.id} and row.done_at is not None
    db.session.refresh(certificate)
    assert certificate.pdf.startswith(b"%PDF-") and certificate.pdf_rendered_at is not None
    assert len(certificate.pdf) < 100_000


def test_issuing_again_returns_the_current_certificate(db, certificate):
    again = services.issue_certificate(certificate.enrollment_id)
    assert again.id == certificate.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1


def test_the_database_refuses_a_second_current_certificate(db, certificate):
    second = Certificate(
        **{
            column: getattr(certificate, column)
            for column in (
                "enrollment_id user_id organization_id course_id version_id learner_name "
                "learner_email course_slug course_title version_label content_hash "
                "organization_name completed_at"
            ).split()
        },
        code=codes.new_code(),
        status_index=certificate.status_index + 1000,
    )
    db.session.add(second)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


def test_status_indexes_are_unique_and_increasing(client, db, course, org, certificate):
    other = MemberFactory(organization=org, role="learner").user
    log_in(client, other)
    complete_course(client)
    indexes = db.session.scalars(sa.select(Certificate.status_index).order_by(Certificate.id)).all()
    assert len(indexes) == 2 and indexes[1] > indexes[0]


def test_a_name_change_after_issuing_does_not_change_the_certificate(db, certificate, learner):
    learner.name = "Someone Else"
    db.session.flush()
    assert verification.verify(certificate.code).learner_name == "Łukasz Øster"


# -- revocation and reissue -------------------------------------------------------------


def test_revoke_and_reinstate_are_logged_with_actor_and_reason(db, certificate, admin):
    changes.revoke(admin, certificate.code, "Plagiarised quiz answers")
    result = verification.verify(certificate.code)
    assert result.status == "revoked" and result.revocation_reason == "Plagiarised quiz answers"
    with pytest.raises(Conflict):
        changes.revoke(admin, certificate.code, "again")
    changes.reinstate(admin, certificate.code, "Appeal upheld")
    assert verification.verify(certificate.code).status == "valid"
    events = [(e.action, e.actor_id, e.reason) for e in changes.events(certificate)]
    assert events == [
        ("issued", None, ""),
        ("revoked", admin.id, "Plagiarised quiz answers"),
        ("reinstated", admin.id, "Appeal upheld"),
    ]


def test_reissue_makes_a_new_code_and_the_old_one_verifies_as_replaced(db, certificate, learner):
    new = changes.reissue(learner, codes.display(certificate.code).lower(), "Łukasz Nowak")
    assert new.code != certificate.code and new.learner_name == "Łukasz Nowak"
    assert new.enrollment_id == certificate.enrollment_id and new.replaces_id == certificate.id
    old = verification.verify(certificate.code)
    assert old.status == "replaced" and old.replaced_by == codes.display(new.code)
    assert verification.verify(new.code).status == "valid"
    (reissued,) = [e for e in changes.events(certificate) if e.action == "reissued"]
    assert reissued.actor_id == learner.id
    assert reissued.details == {
        "old_name": "Łukasz Øster",
        "new_name": "Łukasz Nowak",
        "new_code": new.code,
    }
    with pytest.raises(Conflict):
        changes.reissue(learner, certificate.code, "Third Name")
    newer = changes.reissue(learner, new.code, "Łukasz Øster-Nowak")
    assert verification.verify(new.code).replaced_by == codes.display(newer.code)


def test_reissue_by_someone_else_is_not_found(db, certificate, admin):
    stranger = UserFactory()
    for actor in (stranger, admin):
        with pytest.raises(NotFound):
            changes.reissue(actor, certificate.code, "Mallory")
    assert verification.verify(certificate.code).status == "valid"


def test_a_revoked_certificate_cannot_be_reissued(db, certificate, admin, learner):
    changes.revoke(admin, certificate.code, "Fraud")
    with pytest.raises(Conflict):
        changes.reissue(learner, certificate.code, "New Name")


def test_unknown_and_malformed_codes_are_not_found(db):
    for typed in ("0000-0000-0000-0000", codes.new_code(), "nonsense", ""):
        with pytest.raises(NotFound):
            verification.verify(typed)
