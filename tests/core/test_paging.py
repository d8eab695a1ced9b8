"""The one pager: API lists and HTML pages page a ``select()`` (a COUNT and a page) or a
``PagedQuery`` (one statement: the page, its total a column), whatever the page size."""

import re

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.paging import PagedQuery, PageInfo, page_of, window, with_total
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


class Names:
    """Pages the names without loading entities (as the progress report does)."""

    where = User.email.like("u%@uni.example")

    def count_statement(self):
        return sa.select(sa.func.count(User.id)).where(self.where)

    def page_statement(self, limit, offset):
        stmt = sa.select(User.name.label("name")).where(self.where).order_by(User.name)
        return with_total(window(stmt, limit, offset), self.count_statement())


def test_a_paged_query_reads_its_page_and_total_in_one_statement(db, count_queries):
    make_users(5)
    assert isinstance(Names(), PagedQuery)
    with count_queries() as statements:
        page = page_of(Names(), 2, 2)
        assert [row["name"] for row in page.items] == ["U02", "U03"]
        assert (page.info.total, page.info.has_previous, page.info.has_next) == (5, True, True)
    assert len(statements) == 1, statements
    last = page_of(Names(), 3, 2)
    assert [row["name"] for row in last.items] == ["U04"]
    assert (last.info.total, last.info.has_next) == (5, False)


def test_a_page_past_the_end_still_knows_the_total(db, count_queries):
    make_users(3)
    with count_queries() as statements:
        page = page_of(Names(), 9, 2)
        assert (list(page.items), page.info.total, page.info.last) == ([], 3, 2)
    assert len(statements) == 2, statements  # the empty page carries no total: a COUNT


def test_an_empty_first_page_needs_no_count(db, count_queries):
    class Nobody(Names):
        where = User.email.like("nobody%")

    with count_queries() as statements:
        empty = page_of(Nobody(), 1, 2)
        assert (list(empty.items), empty.info.total, empty.info.last) == ([], 0, 1)
    assert len(statements) == 1, statements


def test_the_page_size_is_written_into_the_sql_and_the_offset_is_a_parameter(db, count_queries):
    """A prepared statement planned once for every parameter (psycopg prepares a statement
    run five times; PostgreSQL may then keep a generic plan) must know the page is small:
    with ``LIMIT`` a parameter that plan joined whole tables for 50 rows."""
    make_users(4)
    with count_queries() as statements:
        assert len(page_of(Names(), 2, 3).items) == 1
        assert len(page_of(sa.select(User).order_by(User.id), 2, 3).items) == 1
    pages = [sql for sql in statements if "LIMIT" in sql]
    assert len(pages) == 2, statements
    for sql in pages:
        assert re.search(r"LIMIT 3 OFFSET (\?|%\(\w+\)s)", sql), sql


def test_an_empty_list_is_one_empty_page():
    info = PageInfo(number=1, size=50, total=0)
    assert (info.last, info.has_previous, info.has_next) == (1, False, False)


def test_query_schemas_are_built_once_not_per_request(app, client):
    """webargs makes a new schema for each request it parses; building one (copying its
    fields) was a tenth of a report page. The parser keeps one instance per schema class."""
    from lms.core.api import Blueprint
    from lms.progress.schemas import ReportQuery

    parser = Blueprint.ARGUMENTS_PARSER
    with app.test_request_context("/?sort=name"):
        first = parser._get_schema(ReportQuery, None)
        assert isinstance(first, ReportQuery)
        assert parser._get_schema(ReportQuery, None) is first
        assert parser.parse(ReportQuery, location="query")["sort"] == "name"
    with app.test_request_context("/?sort=-email"):
        assert parser.parse(ReportQuery, location="query")["sort"] == "-email"
