"""What /healthz reports: is the database reachable, how much is in it, which version runs."""
import sqlalchemy as sa
from flask import current_app

from extensions import db
from models import Idea, ResearchOrder, TechnologyNeed, User


def report() -> dict:
    try:
        counts = {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                  for name, model in (("ideas", Idea), ("needs", TechnologyNeed),
                                      ("orders", ResearchOrder), ("users", User))}
        database = True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        counts, database = {}, False
    return {"status": "ok" if database else "error", "database": database, "counts": counts,
            "version": current_app.config["VERSION"]}
