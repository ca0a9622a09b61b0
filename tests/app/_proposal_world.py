"""A small world for proposal tests: staff, the two sides of a match, outsiders, and their submissions.

Import the fixtures into a test module: `from tests.app._proposal_world import world, make_proposal`.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from extensions import db

STATES = ["proposed", "under_review", "approved", "rejected", "in_discussion", "agreement_signed",
          "no_agreement", "closed"]


@dataclass
class World:
    staff: tuple[int, str]
    staff2: tuple[int, str]
    admin: tuple[int, str]
    innovator: tuple[int, str]
    business: tuple[int, str]
    outsider_innovator: tuple[int, str]
    outsider_business: tuple[int, str]
    idea: int
    need: int
    secret_need: int
    order: int


@pytest.fixture
def world(app, make_user, submit, tmp_path) -> World:
    # These tests are about people and states, not about the engine: run without a model (the pages
    # must work then too), which also keeps them fast.
    app.config.update(MATCHING_BACKEND="sentence-transformers", MATCHING_MODEL=None, MODEL_DIR=str(tmp_path / "none"))
    staff = make_user("staff", email="canbo@so.vn", organisation="Sở Khoa học và Công nghệ tỉnh Lào Cai")
    staff2 = make_user("staff", email="canbo2@so.vn", organisation="Sở Khoa học và Công nghệ – Phòng Công nghệ",
                       preferred_language="en")
    admin = make_user("admin", email="admin@so.vn", organisation="Sở Khoa học và Công nghệ – Văn phòng")
    innovator = make_user("innovator", email="mai@truong.vn", organisation="Trường Cao đẳng Lào Cai",
                          phone="0912 111 222")
    business = make_user("business", email="htx@que.vn", organisation="HTX Quế Văn Yên", phone="0987 654 321")
    outsider_innovator = make_user("innovator", email="khac@truong.vn", organisation="Trường THPT Bát Xát")
    outsider_business = make_user("business", email="khac@cty.vn", organisation="Công ty Chè Suối Giàng")
    return World(
        staff, staff2, admin, innovator, business, outsider_innovator, outsider_business,
        idea=submit("ideas", innovator[0], title="Máy sấy quế dùng năng lượng mặt trời",
                    organisation="Trường Cao đẳng Lào Cai"),
        need=submit("needs", business[0], title="Cần lò sấy quế chủ động", organisation="HTX Quế Văn Yên"),
        secret_need=submit("needs", business[0], title="Bài toán bảo quản quế bí mật",
                           organisation="HTX Quế Văn Yên", confidential=True),
        order=submit("orders", staff[0], title="Đặt hàng nghiên cứu sấy dược liệu",
                     ordering_body="Sở Nông nghiệp và Môi trường"),
    )


@pytest.fixture
def make_proposal(app, world):
    """make_proposal(state="proposed", target="need"|"secret_need"|"order", source="engine", by=None) -> id.
    The state is set directly: each test starts exactly where it needs to be."""
    from models import Idea, MatchProposal, ResearchOrder, TechnologyNeed, User
    from services import proposals

    def make(state: str = "proposed", target: str = "need", source: str = "engine", by: int | None = None) -> int:
        with app.app_context():
            idea = db.session.get(Idea, world.idea)
            item = db.session.get(ResearchOrder if target == "order" else TechnologyNeed, getattr(world, target))
            actor = db.session.get(User, by) if by else None
            proposal = proposals.propose(idea, item, source, actor=actor, band="good", score=0.5,
                                         notify_staff=False)
            proposal.state = state
            db.session.commit()
            return proposal.id

    def get(proposal_id: int):
        return db.session.get(MatchProposal, proposal_id)

    make.get = get
    return make
