"""Account rules without HTTP."""

import pytest

from lms.accounts import services
from lms.core.errors import Conflict, RuleViolation, Unauthorized
from tests.factories import DEFAULT_PASSWORD, UserFactory


def test_emails_are_stored_lower_case(db):
    user = services.register_user("  Mixed@Case.Example ", "long enough passphrase", "M")
    assert user.email == "mixed@case.example"
    assert services.get_user_by_email("MIXED@case.example") is user


def test_duplicate_email_is_a_conflict(db):
    UserFactory(email="taken@uni.example")
    with pytest.raises(Conflict):
        services.register_user("TAKEN@uni.example", "long enough passphrase", "T")


def test_password_based_on_the_email_is_refused(db):
    with pytest.raises(RuleViolation) as excinfo:
        services.register_user("margaret@uni.example", "margaret-2026-xyz", "M")
    assert "email" in excinfo.value.errors["password"][0]


def test_authenticate_updates_last_login(db):
    user = UserFactory()
    assert user.last_login_at is None
    assert services.authenticate(user.email, DEFAULT_PASSWORD) is user
    assert user.last_login_at is not None


def test_authenticate_refuses_a_user_without_password(db):
    user = UserFactory(password_hash=None)
    with pytest.raises(Unauthorized):
        services.authenticate(user.email, "anything at all")


def test_session_ids_carry_the_epoch(db):
    user = UserFactory()
    session_id = user.get_id()
    assert services.load_session_user(session_id) is user
    user.session_epoch += 1
    assert services.load_session_user(session_id) is None
    assert services.load_session_user("garbage") is None


def test_ensure_platform_admin_promotes_an_existing_account(db):
    user = UserFactory()
    promoted, created = services.ensure_platform_admin(user.email, "admin passphrase 99", "X")
    assert promoted is user and created is False and user.is_platform_admin
    assert services.authenticate(user.email, "admin passphrase 99") is user
