"""Every domain's tables, imported in one place so that migrations see the whole schema."""

from ethica.service.systems.tables import ModelVersion, System
from ethica.service.users.tables import ApiKey, User

__all__ = ["ApiKey", "ModelVersion", "System", "User"]
