"""What the command reads from its options and settings file, checked: whole numbers in
range, ``--as-of`` instants, time zones, and the settings file itself."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cmsf_core.app.cli.exits import UsageError, _shown
from cmsf_core.domain.errors import CmsfError

if TYPE_CHECKING:
    from cmsf_core.domain.settings import Settings


MAX_SETTINGS_BYTES = 1_000_000
"""A settings file larger than this is refused unread (real ones are a few KB)."""

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def _int_option(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number from ``minimum`` to ``maximum``."""

    def parse(text: str) -> int:
        expected = f"a whole number from {minimum:,} to {maximum:,}"
        if not _INTEGER.fullmatch(text.strip()):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {_shown(text)}")
        value = int(text)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


_DAYS = _int_option(1, 3_650)

_RECIPIENTS = _int_option(1, 100_000)

_CAMPAIGNS = _int_option(1, 520)

_LIMIT = _int_option(0, 1_000_000_000)

_DAYS_TO_KEEP = _int_option(0, 36_500)


def load_settings(path: str | None, overrides: dict[str, object] | None = None) -> Settings:
    """Settings from a TOML or JSON file of product setting names, plus overrides.

    A file that is missing, not a regular file, larger than :data:`MAX_SETTINGS_BYTES`,
    not UTF-8, not valid TOML or JSON (including nesting too deep or numbers too long to
    read) or holding a bad setting is refused with one :class:`UsageError`.
    """
    from cmsf_core.domain.settings import Settings  # noqa: PLC0415 - keep --help fast

    values: dict[str, object] = {}
    if path is not None:
        values.update(_read_settings_file(path))
    values.update(overrides or {})
    try:
        return Settings.from_mapping(values)
    except CmsfError as error:
        where = f" in {path!r}" if path else ""
        raise UsageError(f"bad setting{where}: {error}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        where = f" in {path!r}" if path else ""
        raise UsageError(f"bad setting{where}: {type(error).__name__}: {error}") from None


def _read_settings_file(path: str) -> dict[str, object]:
    file = Path(path)
    if not file.exists():
        raise UsageError(f"settings file {path!r} does not exist")
    if not file.is_file():
        raise UsageError(f"settings file {path!r} is not a regular file")
    try:
        size = file.stat().st_size
        if size > MAX_SETTINGS_BYTES:
            raise UsageError(
                f"settings file {path!r} is too big: expected at most "
                f"{MAX_SETTINGS_BYTES:,} bytes, got {size:,}"
            )
        data = file.read_bytes()
    except OSError as error:
        raise UsageError(f"settings file {path!r} cannot be read: {error.strerror}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as some editors write
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"settings file {path!r} is not UTF-8 text: byte 0x{data[error.start]:02x} "
            f"at offset {error.start:,}"
        ) from None
    kind = "JSON" if file.suffix.lower() == ".json" else "TOML"
    try:
        loaded: object = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except RecursionError:
        raise UsageError(f"settings file {path!r} is not valid {kind}: nested too deep") from None
    except ValueError as error:  # TOMLDecodeError, JSONDecodeError, a number too long
        problem = str(error)
        if "integer string conversion" in problem:
            problem = f"a number has more than {sys.get_int_max_str_digits():,} digits"
        raise UsageError(f"settings file {path!r} is not valid {kind}: {problem}") from None
    if not isinstance(loaded, dict):
        raise UsageError(f"settings file {path!r} must hold a table of setting names")
    return loaded


def _time_zones(values: Sequence[str] | None) -> dict[str, str]:
    """``--time-zone CLIENT_ID=Area/City`` options as client id -> IANA zone."""
    from cmsf_core.adapters.files import zone_for_time_zone  # noqa: PLC0415

    zones: dict[str, str] = {}
    for value in values or ():
        client_id, sep, zone = (part.strip() for part in value.partition("="))
        if not sep or not client_id or not zone:
            raise UsageError(f"--time-zone {value!r} must be CLIENT_ID=Area/City")
        if zone_for_time_zone(zone) != zone:  # an IANA name, not a display name
            raise UsageError(
                f"--time-zone {value!r}: {zone!r} is not an IANA time zone "
                "(e.g. Australia/Sydney, Europe/London, UTC)"
            )
        if zones.get(client_id, zone) != zone:
            raise UsageError(f"--time-zone gives client {client_id!r} two zones")
        zones[client_id] = zone
    return zones


def _org_zone(text: str) -> str:
    from cmsf_core.domain.schedule import resolve_zone  # noqa: PLC0415

    try:
        resolve_zone(text, "--org-time-zone")
    except CmsfError:
        raise UsageError(
            f"--org-time-zone: expected an IANA time zone such as Europe/London, got {_shown(text)}"
        ) from None
    return text.strip()


def _is_date(text: str | None) -> bool:
    return (
        text is not None and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()) is not None
    )


_AS_OF_FORMS = (
    "a date (2024-04-09, read as midnight UTC) or an ISO 8601 date-time with an offset "
    "(2024-04-09T12:00:00+00:00 or 2024-04-09T12:00:00Z)"
)

_AS_OF_YEARS = (1970, 2999)


def _parse_as_of(text: str | None) -> datetime:
    """``--as-of``: now, a date (midnight UTC) or an ISO 8601 date-time with an offset."""
    if text is None:
        return datetime.now(UTC)
    try:
        if _is_date(text):
            day = date.fromisoformat(text.strip())
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--as-of: expected {_AS_OF_FORMS}, got {_shown(text)}") from None
    if parsed.tzinfo is None:
        raise UsageError(
            f"--as-of {_shown(text)} needs a UTC offset: e.g. --as-of {parsed.isoformat()}+00:00"
        )
    low, high = _AS_OF_YEARS
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not low <= utc.year <= high:
        raise UsageError(f"--as-of: expected a year from {low} to {high}, got {_shown(text)}")
    return utc
