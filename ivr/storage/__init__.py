"""Storage: typed SQLAlchemy 2 models, engine setup, Alembic migrations."""
from .db import connect, session_factory, upgrade
from .models import *  # noqa: F401,F403
from .models import __all__ as _models

__all__ = ["connect", "session_factory", "upgrade", *_models]
