"""The one pager of lists: API lists (``@blp.paginate(SQLAlchemyPage)``, the view returns what
to page) and HTML pages (``page_of(collection, number, size)`` in a read service) page the
same way, with a fixed number of statements whatever the page size.

No Flask here: services page with it too.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, runtime_checkable

import sqlalchemy as sa
from flask_smorest import Page
from flask_smorest.pagination import PaginationParameters

from lms.core.extensions import db


@runtime_checkable
class PagedQuery(Protocol):
    """A list that builds its own statements, for lists that page before they join (the
    progress report selects a page of ids, then joins only those rows). Its rows are read as
    mappings."""

    def count_statement(self) -> sa.Select:
        """One row, one column: how many items the whole list has."""

    def page_statement(self, limit: int, offset: int) -> sa.Select:
        """The items from ``offset`` on, at most ``limit`` of them, each with the whole list's
        total as the column ``TOTAL`` (``with_total``)."""


TOTAL = "_total"  # the column of a PagedQuery's page that carries the total; no item reads it


def with_total(rows: sa.Select, count: sa.Select) -> sa.Select:
    """``rows`` with the total ``count`` as the column ``TOTAL`` (PostgreSQL and SQLite run an
    uncorrelated scalar subquery once)."""
    return rows.add_columns(count.scalar_subquery().label(TOTAL))


def window(stmt: sa.Select, limit: int, offset: int | sa.BindParameter) -> sa.Select:
    """``stmt`` from row ``offset`` on, at most ``limit`` rows, with the limit written into
    the SQL and the offset a parameter.

    psycopg prepares a statement once a connection has run it five times, and PostgreSQL
    may then plan it once for all parameters. With ``LIMIT`` a parameter that plan assumes a
    tenth of the rows come back, so a page of 50 from 20,000 enrollments was planned as hash
    joins over whole tables (5 ms instead of 1). A page size is a small bounded integer, so
    there are few distinct statements; the offset, unbounded, stays a parameter."""
    return stmt.limit(sa.literal(int(limit), sa.Integer, literal_execute=True)).offset(offset)


@dataclass(frozen=True)
class PageInfo:
    """Where a page is in its list, for the pager links of HTML pages."""

    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total


class SQLAlchemyPage(Page):
    """flask-smorest's pager over the database. The collection is either a ``select()`` of
    entities (a COUNT of it, and its entities with LIMIT/OFFSET: two statements) or a
    ``PagedQuery``, whose page and total come back together in one statement (the COUNT as
    a column of the page; a second statement only for a page past the end, which has no row
    to carry it). Each statement runs once, however often it is asked for."""

    @cached_property
    def _paged(self) -> tuple[list, int]:
        limit, offset = self.page_params.page_size, self.page_params.first_item
        page = self.collection.page_statement(limit, offset)
        # Rows, not entities: through the session's connection, without the ORM's steps
        # (after the flush ``session.execute`` would make first).
        db.session.flush()
        rows = db.session.connection().execute(page).mappings().all()
        if rows:
            return rows, rows[0][TOTAL]
        if offset == 0:
            return rows, 0
        return rows, db.session.scalar(self.collection.count_statement())

    @cached_property
    def items(self) -> list:
        if isinstance(self.collection, PagedQuery):
            return self._paged[0]
        limit, offset = self.page_params.page_size, self.page_params.first_item
        return db.session.scalars(window(self.collection, limit, offset)).all()

    @cached_property
    def item_count(self) -> int:
        if isinstance(self.collection, PagedQuery):
            return self._paged[1]
        everything = self.collection.order_by(None).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(everything))

    @property
    def info(self) -> PageInfo:
        return PageInfo(self.page_params.page, self.page_params.page_size, self.item_count)


def page_of(collection: sa.Select | PagedQuery, number: int, size: int) -> SQLAlchemyPage:
    """Page ``number`` (from 1) of ``collection``, ``size`` items a page: ``.items`` and
    ``.info``. For HTML pages; API views return the collection to ``@blp.paginate``."""
    return SQLAlchemyPage(collection, PaginationParameters(number, size))
