"""The data, one module per aggregate. Importing this package registers every table."""
from models.matching import EmbeddingVector
from models.people import Role, InnovatorType, User
from models.places import Place, Sector
from models.submissions import (
    Idea, IdeaKind, Stage, Status, TechnologyNeed, ResearchOrder, Urgency, Visibility,
)

__all__ = [
    "EmbeddingVector",
    "Role", "InnovatorType", "User", "Place", "Sector", "Idea", "IdeaKind", "Stage",
    "Status", "TechnologyNeed", "ResearchOrder", "Urgency", "Visibility",
]
