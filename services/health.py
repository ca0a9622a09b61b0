"""What /healthz reports: whether the service is up (anyone may ask; a load balancer does) and, for
staff only, how much is in it and which version runs."""
import sqlalchemy as sa
from flask import current_app

from extensions import db
from models import Idea, ResearchOrder, TechnologyNeed, User


def report(details: bool = False) -> dict:
    """{"status": "ok" | "error"}; with `details` (staff), the database flag, the counts of every
    row whatever its state (drafts, withdrawn items and accounts: not for the public), the e-mails
    that failed for good (listed on /mail/) and the version."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        counts = {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                  for name, model in (("ideas", Idea), ("needs", TechnologyNeed),
                                      ("orders", ResearchOrder), ("users", User))} if details else {}
        database = True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        counts, database = {}, False
    status = {"status": "ok" if database else "error"}
    if not details:
        return status
    from services import mail
    return {**status, "database": database, "counts": counts,
            "mail_failed": mail.failed_count() if database else None, "version": current_app.config["VERSION"]}
