import pytest

from tests.conftest import log_in
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory, UserFactory


@pytest.fixture
def org(db):
    organization = OrganizationFactory(slug="ospo", name="Example University OSPO")
    SeatGrantFactory(organization=organization, seats=3)
    return organization


@pytest.fixture
def org_admin(org):
    return MemberFactory(organization=org, role="admin").user


@pytest.fixture
def org_admin_client(client, org_admin):
    return log_in(client, org_admin)


@pytest.fixture
def learner(org):
    return MemberFactory(organization=org, role="learner").user


def fill_seats(org, count):
    return [MemberFactory(organization=org, role="learner") for _ in range(count)]


@pytest.fixture
def outsider(db):
    return UserFactory()
