"""The one pager of lists: API lists (``@blp.paginate(SQLAlchemyPage)``, the view returns what
to page) and HTML pages (``page_of(collection, number, size)`` in a read service) page the
same way, with one COUNT and one page, whatever the page size.

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

    def rows_statement(self, limit: int | None = None, offset: int = 0) -> sa.Select:
        """The items from ``offset`` on, at most ``limit`` of them (all without a limit)."""


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
    entities (a COUNT of it, and its entities with LIMIT/OFFSET) or a ``PagedQuery`` (its own
    count and page statements). Each statement runs once, however often it is asked for."""

    @cached_property
    def items(self) -> list:
        limit, offset = self.page_params.page_size, self.page_params.first_item
        if isinstance(self.collection, PagedQuery):
            page = self.collection.rows_statement(limit, offset)
            return db.session.execute(page).mappings().all()
        return db.session.scalars(self.collection.limit(limit).offset(offset)).all()

    @cached_property
    def item_count(self) -> int:
        if isinstance(self.collection, PagedQuery):
            return db.session.scalar(self.collection.count_statement())
        everything = self.collection.order_by(None).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(everything))

    @property
    def info(self) -> PageInfo:
        return PageInfo(self.page_params.page, self.page_params.page_size, self.item_count)


def page_of(collection: sa.Select | PagedQuery, number: int, size: int) -> SQLAlchemyPage:
    """Page ``number`` (from 1) of ``collection``, ``size`` items a page: ``.items`` and
    ``.info``. For HTML pages; API views return the collection to ``@blp.paginate``."""
    return SQLAlchemyPage(collection, PaginationParameters(number, size))
