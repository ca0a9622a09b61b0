"""The data, one module per aggregate. Importing this package registers every table."""
from models.alerts import Follow, FollowTopic
from models.audit import AuditEntry
from models.embeddings import EmbeddingVector, ExplanationParts
from models.glossary import GlossaryTerm
from models.imports import ImportJob
from models.matches import (
    MatchingRound,
    MatchProposal,
    ProposalSource,
    ProposalState,
    RejectReason,
    RoundState,
)
from models.notifications import Notification, OutgoingMail
from models.people import InnovatorType, Role, User
from models.places import Place, Sector
from models.submissions import (
    Idea,
    IdeaKind,
    ResearchOrder,
    Stage,
    Status,
    Submission,
    TechnologyNeed,
    Urgency,
    Visibility,
)
from models.tokens import ApiToken

__all__ = [
    "AuditEntry", "MatchingRound", "MatchProposal", "ProposalSource", "ProposalState", "RejectReason",
    "RoundState", "Notification", "OutgoingMail", "ImportJob", "ApiToken",
    "EmbeddingVector", "ExplanationParts", "GlossaryTerm", "Follow", "FollowTopic",
    "Role", "InnovatorType", "User", "Place", "Sector", "Idea", "IdeaKind", "Stage",
    "Status", "Submission", "TechnologyNeed", "ResearchOrder", "Urgency", "Visibility",
]
