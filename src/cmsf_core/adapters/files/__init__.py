"""An email platform read from a folder of Campaign Monitor API responses.

:class:`FilePlatform` serves the :class:`~cmsf_core.ports.platform.EmailPlatform` reads
from JSON files shaped as the Campaign Monitor API v3.3 returns them, so exported data
can be synced without credentials.  ``docs/file-platform.md`` describes the folder
layout, every file and field read, and the time-zone policy.

The platform's dates are naive local times of the client's time zone; they are localised
once, here, by :func:`localise`: a time in a DST gap is moved forward by the length of
the gap, an ambiguous time in a DST fold is its first occurrence.

Every path is resolved inside the export folder: an id read from a file (``ClientID``,
``CampaignID``, ``ListID``) that could leave it (a separator, ``..``, a drive, a control
character) is refused, and so is a file that resolves outside the folder (a symbolic
link).  A bad file raises :class:`PlatformFileError`, naming the file, the record and the
field, whatever is wrong with it (not UTF-8, not JSON, nested too deep, a number too
long, a date at the edge of the calendar, a folder where a file belongs, too large).
A malformed row of a tracking stream is skipped instead and handed back on the page
(:class:`~cmsf_core.domain.records.SkippedRow`).  Each file is read and parsed once,
but for the tracking streams: the streams of the campaign being read are kept, not their
files (``docs/file-platform.md``).
"""

from __future__ import annotations

from cmsf_core.adapters.campaign_monitor.local_times import localise, parse_local_datetime
from cmsf_core.adapters.campaign_monitor.time_zones import zone_for_time_zone
from cmsf_core.adapters.files.errors import PlatformFileError
from cmsf_core.adapters.files.errors import (
    UnmappableTimeZoneFileError as UnmappableTimeZoneFileError,
)
from cmsf_core.adapters.files.json_files import MAX_FILE_BYTES, MAX_NUMBER_DIGITS
from cmsf_core.adapters.files.platform import (
    LIST_STATE_FILES,
    PAGE_SIZE_LIMIT,
    STREAM_FILES,
    FilePlatform,
)

__all__ = [
    "LIST_STATE_FILES",
    "MAX_FILE_BYTES",
    "MAX_NUMBER_DIGITS",
    "PAGE_SIZE_LIMIT",
    "STREAM_FILES",
    "FilePlatform",
    "PlatformFileError",
    "localise",
    "parse_local_datetime",
    "zone_for_time_zone",
]
