"""A process starts from the match index another process saved, reads only the rows changed since,
and ranks what a process built from every row ranks; a file this app did not sign is never unpickled."""
import os
import pickle
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from extensions import db
from models import Idea, TechnologyNeed
from models.submissions import idea_sectors
from services import index_snapshot, match_index, submissions
from services.match_index import MatchIndex
from services.submission_types import engine_id, to_item


def _new_process(app, snapshot_dir=None, key=None) -> MatchIndex:
    """The index a newly started process of this app would have (its own engine, the same files)."""
    config = app.config
    return MatchIndex(config["MATCHING_BACKEND"], config["MATCHING_MODEL"], config["MODEL_DIR"],
                      snapshot_dir=snapshot_dir, snapshot_key=key or str(config["SECRET_KEY"]).encode(),
                      database_url=str(config["SQLALCHEMY_DATABASE_URI"]))


def _state(index: MatchIndex) -> tuple:
    engine = index._ready()
    return ({i for side in engine._sides.values() for i in side.items},
            {i: engine.get(i).title for side in engine._sides.values() for i in side.items},
            set(index._pending), index.members_only, index.confidential_needs)


def _ranked(index: MatchIndex, need_id: int) -> list[str]:
    need = to_item(db.session.get(TechnologyNeed, need_id))
    return [m.item_id for m in index.rank(need, top_k=10)]


def test_a_new_process_starts_from_the_snapshot_and_reads_only_the_rows_changed_since(
        app, make_user, submit, monkeypatch):
    owner, _ = make_user("innovator")
    business, _ = make_user("business")
    ideas = [submit("ideas", owner, title=f"Máy sấy quế số {i} dùng năng lượng mặt trời",
                    summary=f"Sấy quế {i} không khói.", description="Buồng sấy có cảm biến độ ẩm.")
             for i in range(12)]
    members = submit("ideas", owner, title="Cảm biến sương muối cho vườn mận", visibility="members")
    need = submit("needs", business, title="Cần máy sấy quế", problem="Quế bị mốc khi trời mưa.",
                  desired_outcome="Buồng sấy quế dưới 13% độ ẩm.")
    secret = submit("needs", business, title="Cần lò sấy quế (bảo mật)", problem="Quế bị mốc.", confidential=True)
    directory = app.config["MATCH_INDEX_SNAPSHOT_DIR"]
    monkeypatch.setattr(match_index, "SNAPSHOT_MIN_CHANGES", 10)  # as 50 would in a bigger index
    with app.app_context():
        first = match_index.match_index()
        first.reset()
        first.refresh()  # built from the 16 rows: it asks for a snapshot, which the job (run at once here) saves
        path = first.snapshot_file
        assert path is not None and path.exists()
        saved = path.read_bytes()
        assert saved.startswith(index_snapshot.MAGIC)

        # changes after the snapshot: an edit, a withdrawal, a new idea, a row gone (a restore without it)
        edited = db.session.get(Idea, ideas[0])
        submissions.update(edited, {"title": "Lò sấy thảo quả tiết kiệm củi"}, publish=True)
        submissions.withdraw(db.session.get(Idea, ideas[1]))
        added = submit("ideas", owner, title="Máy sấy quế lai sinh khối", summary="Sấy quế bằng củi và nắng.")
        db.session.execute(sa.delete(idea_sectors).where(idea_sectors.c.idea_id == ideas[2]))
        db.session.execute(sa.delete(Idea).where(Idea.id == ideas[2]))
        db.session.commit()
        assert path.read_bytes() == saved  # too few changes for a new snapshot

        read = []
        monkeypatch.setattr(match_index, "to_item", lambda sub: read.append(engine_id(sub)) or to_item(sub))
        restored = _new_process(app, directory)
        restored.refresh()
        assert set(read) == {f"idea:{ideas[0]}", f"idea:{added}"}  # the changed rows, not all 16
        monkeypatch.undo()

        rebuilt = _new_process(app)  # no snapshot: from every row
        rebuilt.refresh()
        assert _state(restored) == _state(rebuilt)
        items, titles, _, members_only, confidential = _state(restored)
        assert titles[f"idea:{ideas[0]}"] == "Lò sấy thảo quả tiết kiệm củi"
        assert f"idea:{ideas[1]}" not in items and f"idea:{ideas[2]}" not in items and f"idea:{added}" in items
        assert members_only == {f"idea:{members}"}
        assert confidential == {f"need:{secret}": db.session.get(TechnologyNeed, secret).owner_id}
        assert _ranked(restored, need) == _ranked(rebuilt, need)

        # a temporary file left by a writer that was killed is cleared by the next write
        left = path.with_name(path.name + "killed.tmp")
        left.write_bytes(b"half")
        os.utime(left, (time.time() - 3600, time.time() - 3600))
        first.save_snapshot()
        assert not left.exists() and path.exists()

        # a reindex resets the index and deletes the snapshot: the next process reads every row
        first.reset()
        assert not path.exists()


def test_a_snapshot_this_app_did_not_sign_is_never_unpickled(app, make_user, submit, tmp_path):
    owner, _ = make_user("innovator")
    idea = submit("ideas", owner, title="Máy sấy quế dùng năng lượng mặt trời")
    marker = tmp_path / "unpickled"

    class Payload:  # what a tampered file could make pickle run
        def __reduce__(self):
            return (Path.touch, (marker,))

    with app.app_context():
        index = _new_process(app, str(tmp_path / "index"))
        path = index.snapshot_file
        app_key = str(app.config["SECRET_KEY"]).encode()
        index_snapshot.write(Payload(), path, app_key)
        signed = path.read_bytes()
        forged = [b"", b"\0" * 10, signed[:len(signed) // 2], pickle.dumps(Payload()),
                  signed[:60] + b"x" + signed[61:]]  # a byte of the signed part changed
        index_snapshot.write(Payload(), path, b"another key")
        forged.append(path.read_bytes())
        for content in forged:
            path.write_bytes(content)
            fresh = _new_process(app, str(tmp_path / "index"))
            fresh.refresh()  # built from the rows instead
            assert not marker.exists()
            assert f"idea:{idea}" in _state(fresh)[0]
        # signed with this app's key, it is read (so the checks above can fail)
        path.write_bytes(signed)
        _new_process(app, str(tmp_path / "index")).refresh()
        assert marker.exists()


def test_the_job_worker_brings_its_index_up_to_date_before_forking_without_loading_the_model(
        app, make_user, submit, monkeypatch):
    """RQ forks a horse per job: the index the worker's main process holds is what every horse
    starts from (services.jobs.warm_index), and the main process never loads the model."""
    from services import jobs
    owner, _ = make_user("innovator")
    ids = [submit("ideas", owner, title=f"Lò sấy thảo quả tiết kiệm củi số {i}") for i in range(3)]
    app.extensions.pop("match_index", None)  # as in a worker that has just started: no index, no model
    model_id = match_index.match_index(app).embedder.model_id
    app.extensions.pop("match_index", None)

    def unloaded_model(*args):
        return match_index.SerialEmbedder(lambda: pytest.fail("the worker's main process loaded the model"), model_id)
    monkeypatch.setattr(match_index, "_load_model", unloaded_model)
    jobs.warm_index(app)
    index = app.extensions["match_index"]
    with app.app_context():
        ranked = {i for side in index._ready()._sides.values() for i in side.items}
        assert {engine_id(db.session.get(Idea, i)) for i in ids} <= ranked
    assert index.embedder.embedder._embedder is None


def test_an_engine_with_its_approximate_index_is_saved_and_read_back(tmp_path):
    """A side past ``approximate_from`` keeps an HNSW graph (matching/ann.py); it travels in the
    snapshot as one array mapped from the file, and the engine read back ranks and updates as the
    saved one did, without rebuilding the graph."""
    import numpy as np

    from matching.ranking import Item, MatchEngine

    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(420, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ideas = [Item(f"idea:{k}", "idea", "startup_idea", "vi", f"máy sấy số {k}") for k in range(400)]
    needs = [Item(f"need:{k}", "need", "business_need", "vi", f"cần máy sấy {k}") for k in range(20)]
    engine = MatchEngine(dim=16, approximate_from=100, approximate_depth=50)
    engine.add(ideas + needs, vecs)
    engine.prepare()
    graph = engine._tables["idea"].ann
    assert graph is not None
    path = tmp_path / "index.pickle"
    index_snapshot.write(index_snapshot.Snapshot("m", engine, {}), path, b"key")
    read = index_snapshot.read(path, b"key", "m")
    assert read is not None
    restored = read.engine
    assert len(restored._tables["idea"].ann) == len(graph) == 400
    for need, vec in zip(needs, vecs[400:]):
        assert [m.item_id for m in restored.rank(need, vec)] == [m.item_id for m in engine.rank(need, vec)]
    twin = Item("idea:new", "idea", "startup_idea", "vi", needs[0].text)
    restored.add([twin], vecs[400][None])
    restored.remove(["idea:0"])
    found = [m.item_id for m in restored.rank(needs[0], vecs[400], top_k=400)]
    assert found[0] == "idea:new" and "idea:0" not in found
