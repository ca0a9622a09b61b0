import sqlalchemy as sa

from extensions import db


def snapshot(app):
    with app.app_context():
        return {t.name: [tuple(r) for r in db.session.execute(sa.select(t).order_by(*t.primary_key.columns))]
                for t in db.metadata.sorted_tables}


def wipe(app):
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def test_backup_and_restore_round_trip_every_record(runner, app, tmp_path, make_user, submit):
    runner.invoke(args=["seed", "--no-demo"])
    owner, _ = make_user("innovator")
    business, _ = make_user("business")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")  # also stores embedding vectors (bytes)
    submit("needs", business, title="Nhu cầu bảo mật", confidential=True, deadline=None)
    before = snapshot(app)
    assert before["embedding_vectors"] and before["ideas"]

    path = tmp_path / "backup.json.gz"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output

    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code != 0 and "not empty" in refused.output

    wipe(app)
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert snapshot(app) == before
    # ids continue after the restored ones
    submit("ideas", owner, title="Ý tưởng sau khi khôi phục")


def test_restore_refuses_a_foreign_file(runner, tmp_path):
    import gzip
    path = tmp_path / "other.json.gz"
    with gzip.open(path, "wt") as f:
        f.write('{"format": "something-else"}')
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code != 0 and "not a backup" in result.output
