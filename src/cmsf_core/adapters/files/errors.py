"""The error of a bad export file, naming the file, the record and the field."""

from __future__ import annotations

from pathlib import Path

from cmsf_core.adapters.campaign_monitor.time_zones import UnmappableTimeZoneError
from cmsf_core.domain.errors import CmsfError

__all__ = ["PlatformFileError", "UnmappableTimeZoneFileError"]


class PlatformFileError(CmsfError, ValueError):
    """A platform file that is missing, not JSON, or not shaped as the API returns it.

    ``path`` is the file, ``record`` where in it (``"Results[3]"``, ``"BasicDetails"``,
    ``"line 4 column 1"``), ``field`` the API field (``None`` for the whole file).
    """

    def __init__(self, path: Path, record: str, field: str | None, problem: str) -> None:
        self.path = path
        self.record = record
        self.field = field
        self.problem = problem
        where = f"{path}: {record}" + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}")


class UnmappableTimeZoneFileError(PlatformFileError, UnmappableTimeZoneError):
    """A client's ``details.json`` names a time zone that maps to no IANA zone: reading
    that client fails; the other clients are read."""

    def __init__(self, path: Path, client_id: str, time_zone: str) -> None:
        UnmappableTimeZoneError.__init__(
            self, client_id, time_zone, where=f"{path}: BasicDetails: field 'TimeZone': "
        )
        self.path = path
        self.record = "BasicDetails"
        self.field = "TimeZone"
