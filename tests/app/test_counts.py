"""The counts pages show are kept while the data is unchanged (services/counts.py): a second visit
counts nothing again, and a publish or a withdrawal is counted at once."""
import re

from extensions import db
from models import Idea
from services import counts, search, submissions
from services.submission_types import IDEA
from services.submissions import BrowseFilters
from tests.conftest import statements


def counted(app):
    """The COUNT queries the database answers meanwhile."""
    return statements(app, lambda statement: re.search(r"\bcount\(", statement, re.I) is not None)


def _figures(app) -> tuple[int, int]:
    """(the ideas list's total as a visitor sees it, the home page's count of ideas)."""
    from models.people import Visitor
    with app.test_request_context():
        return search.find(IDEA, Visitor(), BrowseFilters()).page.total, submissions.counts()["ideas"]


def test_a_second_visit_counts_nothing_and_a_change_is_counted_at_once(app, client, make_user, submit):
    counts._kept.clear()
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")
    client.get("/")
    client.get("/ideas/")
    with counted(app) as seen:
        assert client.get("/").status_code == 200 and client.get("/ideas/").status_code == 200
    assert seen == []  # both pages' counts were kept
    assert _figures(app) == (1, 1)

    idea = submit("ideas", owner, title="Cảm biến sương muối cho vườn mận")
    with counted(app) as seen:
        assert _figures(app) == (2, 2)  # a new version of the data: counted again at once
    assert seen

    with app.app_context():
        item = db.session.get(Idea, idea)
        submissions.withdraw(item)
    assert _figures(app) == (1, 1)
