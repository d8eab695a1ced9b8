"""factory_boy factories: rows flushed into the test's session (and rolled back with it)."""

from datetime import timedelta

import factory
from werkzeug.security import generate_password_hash

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.memberships.models import Organization, OrganizationMember, SeatGrant
from tests.conftest import TEST_PASSWORD_HASH

DEFAULT_PASSWORD = "correct horse battery staple"
_DEFAULT_HASH = generate_password_hash(DEFAULT_PASSWORD, method=TEST_PASSWORD_HASH)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@uni.example")
    name = factory.Sequence(lambda n: f"Person {n}")
    password_hash = _DEFAULT_HASH
    is_platform_admin = False
    # Verified by default; pass email_verified_at=None for a self-registered, unconfirmed one.
    email_verified_at = factory.LazyFunction(utcnow)


class OrganizationFactory(BaseFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"ospo-{n}")
    name = factory.Sequence(lambda n: f"University {n} OSPO")
    kind = "university_ospo"
    country = "DE"


class SeatGrantFactory(BaseFactory):
    class Meta:
        model = SeatGrant

    organization = factory.SubFactory(OrganizationFactory)
    seats = 10
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=365))
    source = "manual"


class MemberFactory(BaseFactory):
    class Meta:
        model = OrganizationMember

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = "learner"
    status = "active"
    # As the services do it: active learners hold a seat; admins take one explicitly.
    holds_seat = factory.LazyAttribute(lambda m: m.role == "learner" and m.status == "active")
