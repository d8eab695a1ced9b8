"""The one pager: API lists and HTML pages page a ``select()`` or a ``PagedQuery`` with one
COUNT and one page, whatever the page size."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.paging import PagedQuery, PageInfo, page_of
from tests.factories import UserFactory


def make_users(count):
    for n in range(count):
        UserFactory(name=f"U{n:02d}", email=f"u{n:02d}@uni.example")


def test_a_select_pages_in_two_statements_whatever_the_size(db, count_queries):
    make_users(7)
    users = sa.select(User).where(User.email.like("u%@uni.example")).order_by(User.email)
    for size in (2, 7):
        with count_queries() as statements:
            page = page_of(users, 1, size)
            assert [u.name for u in page.items] == [f"U{n:02d}" for n in range(size)]
            assert page.items is page.items  # read once
            assert page.info.total == 7
        assert len(statements) == 2, statements
    last = page_of(users, 3, 3)
    assert [u.name for u in last.items] == ["U06"]
    assert last.info == PageInfo(number=3, size=3, total=7)
    assert (last.info.has_previous, last.info.has_next, last.info.last) == (True, False, 3)


def test_a_paged_query_builds_its_own_statements(db, count_queries):
    make_users(5)

    class Names:
        """Pages the names without loading entities (as the progress report does)."""

        where = User.email.like("u%@uni.example")

        def count_statement(self):
            return sa.select(sa.func.count(User.id)).where(self.where)

        def rows_statement(self, limit=None, offset=0):
            stmt = sa.select(User.name.label("name")).where(self.where).order_by(User.name)
            return stmt.limit(limit).offset(offset)

    assert isinstance(Names(), PagedQuery)
    with count_queries() as statements:
        page = page_of(Names(), 2, 2)
        assert [row["name"] for row in page.items] == ["U02", "U03"]
        assert (page.info.total, page.info.has_previous, page.info.has_next) == (5, True, True)
    assert len(statements) == 2


def test_an_empty_list_is_one_empty_page():
    info = PageInfo(number=1, size=50, total=0)
    assert (info.last, info.has_previous, info.has_next) == (1, False, False)
