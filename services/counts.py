"""Counts that pages show (the home page's totals, a list's number of results and so its pages),
kept in each process while what they count has not changed.

Counting 100k rows costs PostgreSQL 25-80 ms a query (bench/load.py: 10k needs, 100k ideas), and
every visit of the home page, a list page or the API's list asked again: four counts made the home
page 100 ms. A count is kept under its statement (SQL and parameters, so each visitor's rights and
filters are part of it) and the data's *version*: the newest ``updated_at`` of ideas, needs and
orders (every change of a submission sets it: ``onupdate``) and the newest account id, read in one
indexed query (~0.5 ms) once per request, with the newest audit entry's id (every change an
admin or an account holder makes to what pages show, a profile, a role, a sector's or a place's
name, records one in the same transaction). A change anywhere is a new version, so no count is
served after the rows it counted have changed; what the version cannot see (a row changed by
hand in the database) is counted again after :data:`KEPT_SECONDS`. web/page_cache.py keeps whole
pages under the same version.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_request_context
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import orm

from extensions import db
from services.kept import Kept

KEPT_SECONDS = 60.0  # the longest a count is served without counting again
KEPT_COUNTS = 4096   # counts kept per process, least recently used dropped first

_kept = Kept(size=KEPT_COUNTS, seconds=KEPT_SECONDS)


def version() -> tuple:
    """(newest idea, need and order ``updated_at``, newest account id, newest audit entry id):
    changes whenever a submission or an account is added or changed, or anything audited is done.
    Read once per request."""
    if has_request_context() and "data_version" in g:
        return g.data_version
    from models import AuditEntry, Idea, ResearchOrder, TechnologyNeed, User
    row = db.session.execute(sa.select(*(sa.select(sa.func.max(m.updated_at)).scalar_subquery()
                                         for m in (Idea, TechnologyNeed, ResearchOrder)),
                                       *(sa.select(sa.func.max(m.id)).scalar_subquery()
                                         for m in (User, AuditEntry)))).one()
    found = tuple(row)
    if has_request_context():
        g.data_version = found
    return found


def count(stmt: sa.Select) -> int:
    """``SELECT count(*)`` of the rows ``stmt`` selects, kept while the data's :func:`version` is
    unchanged (at most :data:`KEPT_SECONDS`)."""
    compiled = stmt.compile(dialect=db.session.get_bind().dialect)
    key = (compiled.string, repr(sorted(compiled.params.items())), version())
    found = _kept.get(key)
    if found is None:
        sub = stmt.options(orm.lazyload("*")).order_by(None).subquery()
        found = db.session.scalar(sa.select(sa.func.count()).select_from(sub)) or 0
        _kept.put(key, found)
    return found


class CountedPagination(SelectPagination):
    """flask-sqlalchemy's pagination of a ``select``, its total from :func:`count`."""

    def _query_count(self) -> int:
        return count(self._query_args["select"])


def paginate(stmt: sa.Select, page: int, per_page: int, max_per_page: int = 100) -> CountedPagination:
    """One page of ``stmt``'s rows (as ``db.paginate(..., error_out=False)``), with a kept total."""
    return CountedPagination(select=stmt, session=db.session(), page=page, per_page=per_page,
                             max_per_page=max_per_page, error_out=False, count=True)
