"""Storage: typed SQLAlchemy 2 models, engine setup, Alembic migrations."""
from .db import connect, session_factory, upgrade
from .models import Attempt, AttemptStatus, Base, Campaign, CampaignKind, CampaignStatus, Contact

__all__ = ["Attempt", "AttemptStatus", "Base", "Campaign", "CampaignKind", "CampaignStatus",
           "Contact", "connect", "session_factory", "upgrade"]
