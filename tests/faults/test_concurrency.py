"""Many people at once against gunicorn on PostgreSQL, with real parallel requests.

Many clients create submissions: afterwards each exists exactly once and is embedded. Two staff
decide on one proposal at the same moment, a round is published and discarded at the same moment,
an import is confirmed twice at the same moment: one wins, the other is told so (409 for the API,
a message and a redirect on pages), and the winner's side effects (audit entry, notifications,
e-mails, proposals, imported rows) happen exactly once. Each race prints its rows before and after.
"""
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa

from extensions import db
from tests.faults.conftest import csrf_of, flask_cmd, gunicorn, signed_in, wait_for

CLIENTS, EACH = 16, 5
TRIALS = 4
# What the one who lost a race is told (English: the sessions switch to it).
LOST = ("Someone else changed this at the same moment", "already published or discarded",
        "This import was already confirmed", "Someone else has just moved this proposal")


@pytest.fixture
def server(database_url, spawn, redis_url, tmp_path):
    """gunicorn (2 workers, 4 threads each) and the job worker over the test database and Redis."""
    if not database_url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass of the suite (TEST_DATABASE_URL)")
    outbox = tmp_path / "outbox"
    env = {"REDIS_URL": redis_url, "RATELIMIT_ENABLED": "0", "OUTBOX_DIR": str(outbox)}
    base, web = gunicorn(spawn, env)
    spawn(*flask_cmd("worker"), env=env, log_name="worker")
    return SimpleNamespace(base=base, outbox=outbox, log=web.log_path, redis_url=redis_url)


def at_once(*calls):
    """Run the calls in parallel threads, released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def how_lost(pages: list[str]) -> str:
    """Whether the loser wrote at the same moment (its write found the version moved on) or after
    the winner had committed (it saw the new state)."""
    return "at the same moment" if any(LOST[0] in page for page in pages) else "after"


def rows(app, *counts) -> dict:
    """The named row counts now: (name, select statement) pairs."""
    with app.app_context():
        return {name: db.session.scalar(stmt) for name, stmt in counts}


def report(race: str, before: dict, after: dict) -> None:
    print(f"\n[{race}] rows before: {before}; after: {after}")


def count(model, *where):
    return sa.select(sa.func.count()).select_from(model).where(*where)


# --- many clients ----------------------------------------------------------------------

def client_session(base: str, email: str, ideas: list[str]) -> list[int]:
    s = signed_in(base, email, english=False)
    codes = []
    for title in ideas:
        token = csrf_of(s, f"{base}/ideas/new")
        response = s.post(f"{base}/ideas/new", timeout=60, allow_redirects=False, data={
            "csrf_token": token, "kind": "hackathon_project", "title": title,
            "summary": "Ứng dụng theo dõi hàng hóa qua cửa khẩu Kim Thành.",
            "description": f"{title}: xe tải đặt lịch qua cửa khẩu, giảm ùn tắc và thời gian chờ.",
            "sectors": ["logistics_border"], "stage": "prototype", "language": "vi", "visibility": "public",
            "publish": "1"})
        codes.append(response.status_code)
    return codes


def test_parallel_clients_on_gunicorn(app, make_user, server):
    emails = [make_user("innovator")[1] for _ in range(CLIENTS)]
    titles = {email: [f"Luồng {c} ý tưởng {i}" for i in range(EACH)] for c, email in enumerate(emails)}
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda e: client_session(server.base, e, titles[e]), emails))
    assert all(code == 302 for codes in results for code in codes), (results, open(server.log).read()[-3000:])

    with app.app_context():
        from matching.embedders import text_key
        from matching.ranking import item_text
        from models import EmbeddingVector, Idea
        from services.submission_types import to_item
        ideas = list(db.session.scalars(sa.select(Idea)))
        assert sorted(i.title for i in ideas) == sorted(t for ts in titles.values() for t in ts)  # each exactly once
        keys = {text_key(item_text(to_item(i))) for i in ideas}

        def stored() -> set[str]:
            db.session.rollback()  # a new snapshot of what the job worker has committed
            return set(db.session.scalars(sa.select(EmbeddingVector.text_key).where(EmbeddingVector.text_key.in_(keys))))
        # publishing queues the embedding (services.match_index.submission_changed): the worker embeds each one
        wait_for(lambda: stored() == keys, timeout=300, what="the job worker to embed every idea")
        assert stored() == keys  # every idea is embedded, exactly once (the store's key is unique)


# --- two staff on one proposal -----------------------------------------------------------

@pytest.fixture
def parties(make_user, submit):
    """An innovator and a business (both want e-mails), a need, and a fresh idea per call."""
    innovator, _ = make_user("innovator", organisation="Trường Cao đẳng Lào Cai")
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    need = submit("needs", business, title="Cần lò sấy quế chủ động nguồn nhiệt")
    counter = iter(range(1, 100))
    return SimpleNamespace(innovator=innovator, business=business, need=need,
                           idea=lambda: submit("ideas", innovator, title=f"Lò sấy quế cải tiến số {next(counter)}"))


def under_review(app, idea_id: int, need_id: int) -> int:
    from models import Idea, ProposalSource, TechnologyNeed
    from services import proposals
    with app.app_context():
        proposal = proposals.propose(db.session.get(Idea, idea_id), db.session.get(TechnologyNeed, need_id),
                                     ProposalSource.ENGINE.value, notify_staff=False)
        proposal.state = "under_review"
        db.session.commit()
        return proposal.id


def staff_tokens(app, make_user, n: int = 2) -> list[tuple[int, dict]]:
    from models import User
    from services import tokens
    people = []
    for _ in range(n):
        user_id, _ = make_user("staff", organisation="Sở Khoa học và Công nghệ", preferred_language="en")
        with app.app_context():
            _, secret = tokens.create(db.session.get(User, user_id), "race")
        people.append((user_id, {"Authorization": f"Bearer {secret}"}))
    return people


def decide(base: str, proposal_id: int, headers: dict, body: dict):
    def call():
        return requests.post(f"{base}/api/v1/proposals/{proposal_id}/transitions", json=body, timeout=60,
                             headers=headers)  # the token's owner reads English
    return call


def proposal_rows(app, proposal_id: int) -> dict:
    from models import AuditEntry, MatchProposal, Notification
    decided = (AuditEntry.entity_type == "proposal", AuditEntry.entity_id == proposal_id,
               AuditEntry.action.in_(["proposal.approved", "proposal.rejected"]))
    return rows(app, ("proposals", count(MatchProposal, MatchProposal.id == proposal_id)),
                ("decision audit entries", count(AuditEntry, *decided)),
                ("introductions", count(Notification, Notification.kind == "introduction",
                                        Notification.params.contains(f'"proposal": {proposal_id}'))))


def mails(outbox: Path) -> int:
    """E-mails sent. In these races only an approval sends any: the introduction, to each side."""
    return len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0


def settle(redis_url: str) -> bool:
    """Nothing waiting or running in either queue."""
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    from services import jobs
    connection = Redis.from_url(redis_url)
    queues = [Queue(name, connection=connection) for name in jobs.QUEUES]
    return not any(q.count or StartedJobRegistry(queue=q).count for q in queues)


def test_two_staff_approve_and_reject_one_proposal_at_once(app, make_user, parties, server):
    from models import MatchProposal
    (first, first_headers), (second, second_headers) = staff_tokens(app, make_user)
    approvals = 0
    for trial in range(TRIALS):
        pid = under_review(app, parties.idea(), parties.need)
        before = proposal_rows(app, pid)
        answers = at_once(decide(server.base, pid, first_headers, {"to": "approved"}),
                          decide(server.base, pid, second_headers, {"to": "rejected", "reason": "off_topic"}))
        after = proposal_rows(app, pid)
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        won, lost = answers if answers[0].status_code == 200 else answers[::-1]
        report(f"approve vs reject, trial {trial + 1}, loser: {lost.json()['type']}", before, after)
        assert lost.headers["Content-Type"].startswith("application/problem+json")
        assert lost.json()["detail"].startswith(LOST)
        with app.app_context():
            proposal = db.session.get(MatchProposal, pid)
            assert proposal.state == won.json()["state"]
            if proposal.state == "approved":  # all of the winner's decision, nothing of the loser's
                approvals += 1
                assert (proposal.reject_reason, proposal.reviewer_id) == (None, first)
            else:
                assert (proposal.reject_reason, proposal.reviewer_id) == ("off_topic", second)
        introduced = 2 if proposal.state == "approved" else 0
        assert after == {"proposals": 1, "decision audit entries": 1, "introductions": introduced}
    wait_for(lambda: settle(server.redis_url), timeout=120, what="the e-mails to be sent")
    assert mails(server.outbox) == 2 * approvals


def test_two_staff_approve_one_proposal_at_once(app, make_user, parties, server):
    (first, first_headers), (second, second_headers) = staff_tokens(app, make_user)
    for trial in range(TRIALS):
        pid = under_review(app, parties.idea(), parties.need)
        before = proposal_rows(app, pid)
        answers = at_once(decide(server.base, pid, first_headers, {"to": "approved"}),
                          decide(server.base, pid, second_headers, {"to": "approved"}))
        after = proposal_rows(app, pid)
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        lost = next(a for a in answers if a.status_code == 409)
        report(f"approve vs approve, trial {trial + 1}, loser: {lost.json()['type']}", before, after)
        assert after == {"proposals": 1, "decision audit entries": 1, "introductions": 2}
    wait_for(lambda: settle(server.redis_url), timeout=120, what="the e-mails to be sent")
    assert mails(server.outbox) == 2 * TRIALS  # one to each side per proposal, not four


# --- a round published and discarded at once -------------------------------------------

def draft_round(app, staff_id: int, idea_ids: list[int], need_id: int) -> int:
    """A solved draft as rounds.create_round() saves it (the engine's scoring is not what is raced)."""
    from models import MatchingRound
    pairs = [{"target": "need", "target_id": need_id, "idea_id": i, "band": "good", "score": 0.8} for i in idea_ids]
    with app.app_context():
        rnd = MatchingRound(name="Vòng thử", state="draft", max_per_need=len(idea_ids), max_per_idea=1,
                            total_score=0.8 * len(idea_ids), greedy_score=0.8 * len(idea_ids),
                            pairs_json=json.dumps(pairs), created_by_id=staff_id)
        db.session.add(rnd)
        db.session.commit()
        return rnd.id


def round_rows(app, round_id: int) -> dict:
    from models import AuditEntry, MatchProposal
    return rows(app, ("proposals", count(MatchProposal, MatchProposal.round_id == round_id)),
                ("publish entries", count(AuditEntry, AuditEntry.entity_type == "round",
                                          AuditEntry.entity_id == round_id, AuditEntry.action == "round.publish")),
                ("discard entries", count(AuditEntry, AuditEntry.entity_type == "round",
                                          AuditEntry.entity_id == round_id, AuditEntry.action == "round.discard")))


def page_post(session: requests.Session, url: str, back: str):
    token = csrf_of(session, back)

    def call():
        return session.post(url, data={"csrf_token": token}, headers={"Referer": back}, timeout=60)
    return call


def test_a_round_published_and_discarded_at_once(app, make_user, parties, server):
    from models import MatchingRound
    staff = [make_user("staff") for _ in range(2)]
    sessions = [signed_in(server.base, email) for _, email in staff]
    published = 0
    for trial in range(TRIALS):
        rid = draft_round(app, staff[0][0], [parties.idea() for _ in range(3)], parties.need)
        page = f"{server.base}/rounds/{rid}"
        before = round_rows(app, rid)
        shown = [r.text for r in at_once(page_post(sessions[0], f"{page}/publish", page),
                                         page_post(sessions[1], f"{page}/discard", page))]
        after = round_rows(app, rid)
        report(f"publish vs discard, trial {trial + 1}, loser: {how_lost(shown)}", before, after)
        told_published = ["Published: 3 proposals" in text for text in shown]
        told_discarded = ["The round was discarded" in text for text in shown]
        told_lost = [any(reason in text for reason in LOST) for text in shown]
        with app.app_context():
            state = db.session.get(MatchingRound, rid).state
        if state == "published":
            published += 1
            assert told_published == [True, False] and told_lost == [False, True] and not any(told_discarded)
            assert after == {"proposals": 3, "publish entries": 1, "discard entries": 0}
        else:
            assert state == "discarded"
            assert told_discarded == [False, True] and told_lost == [True, False] and not any(told_published)
            assert after == {"proposals": 0, "publish entries": 0, "discard entries": 1}
    print(f"\n[publish vs discard] published {published} of {TRIALS}")


# --- an import confirmed twice at once ----------------------------------------------------

def test_an_import_confirmed_twice_at_once(app, client, make_user, auth, server):
    from models import AuditEntry, Idea, ImportJob
    from tests.app.test_imports import HEADERS, _csv, _job_id, _row, _upload
    staff_id, staff_email = make_user("staff")
    auth.login(staff_email)
    author = make_user("innovator")[1]
    tabs = [signed_in(server.base, staff_email) for _ in range(2)]  # the uploader, in two tabs
    for trial in range(TRIALS):
        job_id = _job_id(_upload(client, _csv([_row(100 * trial + n, author) for n in range(50)], HEADERS)))
        page = f"{server.base}/reports/import/{job_id}"
        before = rows(app, ("ideas", count(Idea)), ("apply entries", count(AuditEntry, AuditEntry.action == "import.apply")))
        shown = [r.text for r in at_once(page_post(tabs[0], f"{page}/confirm", page),
                                         page_post(tabs[1], f"{page}/confirm", page))]
        assert sum(any(reason in text for reason in LOST) for text in shown) == 1, shown
        finished = ("status", sa.select(ImportJob.status).where(ImportJob.id == job_id, ImportJob.status.in_(
            ["done", "failed"])))
        wait_for(lambda finished=finished: rows(app, finished)["status"], timeout=120, what="the import to finish")
        after = rows(app, ("ideas", count(Idea)), ("apply entries", count(AuditEntry, AuditEntry.action == "import.apply")))
        report(f"confirm vs confirm, trial {trial + 1}, loser: {how_lost(shown)}", before, after)
        with app.app_context():
            assert db.session.get(ImportJob, job_id).status == "done"
        assert after == {"ideas": before["ideas"] + 50, "apply entries": before["apply entries"] + 1}
