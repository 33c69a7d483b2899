"""戸籍届出 services (split in the next commits)."""

from .base import *  # noqa: F403
from .base import NEW_NATIONAL_KINDS, RECORD_ONLY_KINDS, RELOCATION_KINDS, SERVICE_FOR_KIND  # noqa: F401
