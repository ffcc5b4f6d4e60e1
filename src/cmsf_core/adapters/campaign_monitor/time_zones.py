"""Campaign Monitor's client time-zone names, mapped to IANA zones.

A client's ``BasicDetails.TimeZone`` is one of the 97 display names of the platform's
``timezones.json`` (``"(GMT+10:00) Canberra, Melbourne, Sydney"``).  They are Windows
time-zone display names, frozen when the platform adopted them: the stated GMT offset is
the zone's standard offset *then*, and a few places have changed theirs since (Caracas
said -04:30 until 2016).  :data:`TIME_ZONES` maps every one of them to the IANA zone of the
place or region it names, so that the platform's naive local times are read with the
rules the place really follows; :data:`STALE_OFFSETS` lists the names whose stated offset
is historical, with the reason.  Both platform adapters (the API and the file folder) use
this table through :func:`zone_for_time_zone`, which also reads IANA names and display
names outside the list.

A client whose zone cannot be mapped is refused by that client only
(:class:`UnmappableTimeZoneError`); ``cmsf sync --time-zone CLIENT_ID=Area/City`` (or the
adapters' ``time_zones`` argument) names its zone instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.ports.errors import UnmappableTimeZoneError

__all__ = [
    "STALE_OFFSETS",
    "TIME_ZONES",
    "UnmappableTimeZoneError",
    "check_time_zones",
    "lookup",
    "zone_for_time_zone",
]

#: Every name of Campaign Monitor's ``timezones.json`` -> its IANA zone.  Where a name lists
#: several cities whose zones have kept the same rules since the platform began (2004), the
#: zone is the one earlier versions of this library matched by place (``Europe/Vienna``,
#: ``Asia/Hong_Kong``), so that a client's zone does not change.  Three earlier matches were
#: wrong and changed: Moscow's name is ``Europe/Moscow`` (not ``Europe/Volgograd``, an hour
#: off in 2018-2020), Magadan's is ``Pacific/Guadalcanal`` (UTC+11 throughout; Magadan was
#: UTC+12 in 2011-2014 and UTC+10 in 2014-2016) and Samoa's is ``Pacific/Apia`` (see
#: :data:`STALE_OFFSETS`), not American Samoa's ``Pacific/Pago_Pago``.
TIME_ZONES: Mapping[str, str] = {
    "(GMT) Casablanca": "Africa/Casablanca",
    "(GMT) Coordinated Universal Time": "UTC",
    "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London": "Europe/London",
    "(GMT) Monrovia, Reykjavik": "Atlantic/Reykjavik",
    "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": "Europe/Vienna",
    "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague": "Europe/Prague",
    "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris": "Europe/Paris",
    "(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb": "Europe/Zagreb",
    "(GMT+01:00) West Central Africa": "Africa/Lagos",
    "(GMT+02:00) Amman": "Asia/Amman",
    "(GMT+02:00) Athens, Bucharest, Istanbul": "Europe/Bucharest",
    "(GMT+02:00) Beirut": "Asia/Beirut",
    "(GMT+02:00) Cairo": "Africa/Cairo",
    "(GMT+02:00) Damascus": "Asia/Damascus",
    "(GMT+02:00) Harare, Pretoria": "Africa/Harare",
    "(GMT+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": "Europe/Vilnius",
    "(GMT+02:00) Jerusalem": "Asia/Jerusalem",
    "(GMT+02:00) Minsk": "Europe/Minsk",
    "(GMT+02:00) Windhoek": "Africa/Windhoek",
    "(GMT+03:00) Baghdad": "Asia/Baghdad",
    "(GMT+03:00) Kuwait, Riyadh": "Asia/Riyadh",
    "(GMT+03:00) Moscow, St. Petersburg, Volgograd": "Europe/Moscow",
    "(GMT+03:00) Nairobi": "Africa/Nairobi",
    "(GMT+03:30) Tehran": "Asia/Tehran",
    "(GMT+04:00) Abu Dhabi, Muscat": "Asia/Muscat",
    "(GMT+04:00) Baku": "Asia/Baku",
    "(GMT+04:00) Port Louis": "Indian/Mauritius",
    "(GMT+04:00) Tbilisi": "Asia/Tbilisi",
    "(GMT+04:00) Yerevan": "Asia/Yerevan",
    "(GMT+04:30) Kabul": "Asia/Kabul",
    "(GMT+05:00) Ekaterinburg": "Asia/Yekaterinburg",
    "(GMT+05:00) Islamabad, Karachi": "Asia/Karachi",
    "(GMT+05:00) Tashkent": "Asia/Tashkent",
    "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi": "Asia/Kolkata",
    "(GMT+05:30) Sri Jayawardenepura": "Asia/Colombo",
    "(GMT+05:45) Kathmandu": "Asia/Kathmandu",
    "(GMT+06:00) Astana": "Asia/Almaty",
    "(GMT+06:00) Dhaka": "Asia/Dhaka",
    "(GMT+06:00) Novosibirsk": "Asia/Novosibirsk",
    "(GMT+06:30) Yangon (Rangoon)": "Asia/Yangon",
    "(GMT+07:00) Bangkok, Hanoi, Jakarta": "Asia/Jakarta",
    "(GMT+07:00) Krasnoyarsk": "Asia/Krasnoyarsk",
    "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi": "Asia/Hong_Kong",
    "(GMT+08:00) Irkutsk": "Asia/Irkutsk",
    "(GMT+08:00) Kuala Lumpur, Singapore": "Asia/Singapore",
    "(GMT+08:00) Perth": "Australia/Perth",
    "(GMT+08:00) Taipei": "Asia/Taipei",
    "(GMT+08:00) Ulaanbaatar": "Asia/Ulaanbaatar",
    "(GMT+09:00) Osaka, Sapporo, Tokyo": "Asia/Tokyo",
    "(GMT+09:00) Seoul": "Asia/Seoul",
    "(GMT+09:00) Yakutsk": "Asia/Yakutsk",
    "(GMT+09:30) Adelaide": "Australia/Adelaide",
    "(GMT+09:30) Darwin": "Australia/Darwin",
    "(GMT+10:00) Brisbane": "Australia/Brisbane",
    "(GMT+10:00) Canberra, Melbourne, Sydney": "Australia/Sydney",
    "(GMT+10:00) Guam, Port Moresby": "Pacific/Port_Moresby",
    "(GMT+10:00) Hobart": "Australia/Hobart",
    "(GMT+10:00) Vladivostok": "Asia/Vladivostok",
    "(GMT+11:00) Magadan, Solomon Is., New Caledonia": "Pacific/Guadalcanal",
    "(GMT+12:00) Auckland, Wellington": "Pacific/Auckland",
    "(GMT+12:00) Coordinated Universal Time+12": "Etc/GMT-12",
    "(GMT+12:00) Fiji": "Pacific/Fiji",
    "(GMT+12:00) Petropavlovsk-Kamchatsky - Old": "Asia/Kamchatka",
    "(GMT+13:00) Nuku'alofa": "Pacific/Tongatapu",
    "(GMT-01:00) Azores": "Atlantic/Azores",
    "(GMT-01:00) Cape Verde Is.": "Atlantic/Cape_Verde",
    "(GMT-02:00) Coordinated Universal Time-02": "Etc/GMT+2",
    "(GMT-02:00) Mid-Atlantic": "Atlantic/South_Georgia",
    "(GMT-03:00) Brasilia": "America/Sao_Paulo",
    "(GMT-03:00) Buenos Aires": "America/Argentina/Buenos_Aires",
    "(GMT-03:00) Cayenne, Fortaleza": "America/Fortaleza",
    "(GMT-03:00) Greenland": "America/Nuuk",
    "(GMT-03:00) Montevideo": "America/Montevideo",
    "(GMT-03:30) Newfoundland": "America/St_Johns",
    "(GMT-04:00) Asuncion": "America/Asuncion",
    "(GMT-04:00) Atlantic Time (Canada)": "America/Halifax",
    "(GMT-04:00) Cuiaba": "America/Cuiaba",
    "(GMT-04:00) Georgetown, La Paz, Manaus, San Juan": "America/Manaus",
    "(GMT-04:00) Santiago": "America/Santiago",
    "(GMT-04:30) Caracas": "America/Caracas",
    "(GMT-05:00) Bogota, Lima, Quito": "America/Lima",
    "(GMT-05:00) Eastern Time (US & Canada)": "America/New_York",
    "(GMT-05:00) Indiana (East)": "America/Indiana/Indianapolis",
    "(GMT-06:00) Central America": "America/Guatemala",
    "(GMT-06:00) Central Time (US & Canada)": "America/Chicago",
    "(GMT-06:00) Guadalajara, Mexico City, Monterrey": "America/Monterrey",
    "(GMT-06:00) Saskatchewan": "America/Regina",
    "(GMT-07:00) Arizona": "America/Phoenix",
    "(GMT-07:00) Chihuahua, La Paz, Mazatlan": "America/Mazatlan",
    "(GMT-07:00) Mountain Time (US & Canada)": "America/Denver",
    "(GMT-08:00) Baja California": "America/Tijuana",
    "(GMT-08:00) Pacific Time (US & Canada)": "America/Los_Angeles",
    "(GMT-09:00) Alaska": "America/Anchorage",
    "(GMT-10:00) Hawaii": "Pacific/Honolulu",
    "(GMT-11:00) Coordinated Universal Time-11": "Etc/GMT+11",
    "(GMT-11:00) Samoa": "Pacific/Apia",
    "(GMT-12:00) International Date Line West": "Etc/GMT+12",
}

#: The names whose stated GMT offset is no longer the zone's standard offset -> why.  The
#: zone follows the place; the name's offset is history.
STALE_OFFSETS: Mapping[str, str] = {
    "(GMT) Casablanca": "Morocco has kept UTC+01 all year since October 2018 (UTC+00 "
    "during Ramadan)",
    "(GMT+02:00) Amman": "Jordan moved to UTC+03 all year in October 2022",
    "(GMT+02:00) Damascus": "Syria moved to UTC+03 all year in October 2022",
    "(GMT+02:00) Minsk": "Belarus moved to UTC+03 all year in 2011",
    "(GMT+06:00) Astana": "Kazakhstan moved to UTC+05 all year on 1 March 2024",
    "(GMT+06:00) Novosibirsk": "Novosibirsk moved to UTC+07 in July 2016",
    "(GMT-03:00) Greenland": "Nuuk moved to UTC-02 standard time in March 2023",
    "(GMT-04:00) Asuncion": "Paraguay moved to UTC-03 all year in October 2024",
    "(GMT-04:30) Caracas": "Venezuela moved back to UTC-04 in May 2016",
    "(GMT-11:00) Samoa": "Samoa crossed the date line to UTC+13 on 30 December 2011 (the "
    "Windows zone behind the name is Apia's)",
}


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


_BY_KEY: dict[str, str] = {}


def lookup(name: str) -> str | None:
    """The IANA zone of one of Campaign Monitor's time-zone names (spacing and case
    ignored), or ``None`` for a name outside the platform's list.

    >>> lookup("(GMT+03:00) Moscow, St. Petersburg, Volgograd")
    'Europe/Moscow'
    >>> lookup("(GMT-11:00) Coordinated Universal Time-11")
    'Etc/GMT+11'
    """
    if not _BY_KEY:
        _BY_KEY.update({_key(k): v for k, v in TIME_ZONES.items()})
    return _BY_KEY.get(_key(name))


def check_time_zones(time_zones: Mapping[str, str] | None) -> dict[str, str]:
    """The ``time_zones`` overrides of a platform adapter (client id -> IANA zone), checked:
    each zone must be an IANA name this machine knows."""
    if time_zones is None:
        return {}
    if not isinstance(time_zones, Mapping):
        raise InvalidTypeError("time_zones", "a mapping of client id to IANA zone", time_zones)
    checked = {}
    for client_id, name in time_zones.items():
        if not isinstance(client_id, str) or not client_id:
            raise InvalidValueError("time_zones", "client ids as non-empty text", client_id)
        if not isinstance(name, str) or _load_zone(name) is None:
            raise InvalidValueError(f"time_zones[{client_id!r}]", "an IANA zone name", name)
        checked[client_id] = name
    return checked


# ----------------------------------------------------------------------------- other names

_GMT = re.compile(r"^\(\s*(?:GMT|UTC)\s*(?:([+-])(\d{1,2}):(\d{2}))?\s*\)\s*(.*)$", re.IGNORECASE)
#: Campaign Monitor's region names that list no city.
_REGIONS = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "atlantic time (canada)": "America/Halifax",
    "arizona": "America/Phoenix",
    "newfoundland": "America/St_Johns",
    "saskatchewan": "America/Regina",
}
#: The dates a zone's offsets are sampled on to check a display name's GMT offset.
_SAMPLE_DATES = (datetime(2024, 1, 15, 12, tzinfo=UTC), datetime(2024, 7, 15, 12, tzinfo=UTC))


def _load_zone(name: str) -> ZoneInfo | None:
    if name.strip() != name or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_for_time_zone(value: str) -> str | None:
    """The IANA zone for a client's ``BasicDetails.TimeZone``, or ``None`` if none fits.

    An IANA name (``"Australia/Sydney"``) is taken as it is.  A name of Campaign
    Monitor's own list (``timezones.json``) is read from its table,
    :data:`cmsf_core.adapters.cm_time_zones.TIME_ZONES`.  Any other display name
    ``"(GMT+10:00) Canberra, Melbourne, Sydney"`` is matched place by place, from the
    **last** listed to the first: a place matches an IANA zone whose last part is the
    place's name (spaces read as ``_``, case ignored) and whose UTC offset in mid January
    or mid July is the stated GMT offset.  The last place that matches wins (here
    ``Australia/Sydney``); among several zones of that name the first alphabetically.
    A region name without a city (``"(GMT-05:00) Eastern Time (US & Canada)"``) is read
    from a small table of Campaign Monitor's region names.
    """
    if _load_zone(value) is not None:
        return value
    listed = lookup(value)
    if listed is not None:
        return listed
    match = _GMT.match(value.strip())
    if match is None:
        return None
    sign, hours, minutes, places = match.groups()
    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    if sign == "-":
        offset = -offset
    region = _REGIONS.get(" ".join(places.split()).casefold())
    if region is not None and _has_offset(region, offset):
        return region
    by_place = _zones_by_place()
    for place in reversed([p.strip() for p in places.split(",")]):
        key = "_".join(place.split()).casefold()
        for name in sorted(by_place.get(key, ())):
            if _has_offset(name, offset):
                return name
    return None


_PLACES: dict[str, list[str]] = {}


def _zones_by_place() -> dict[str, list[str]]:
    if not _PLACES:
        for name in available_timezones():
            _PLACES.setdefault(name.rsplit("/", 1)[-1].casefold(), []).append(name)
    return _PLACES


def _has_offset(name: str, offset: timedelta) -> bool:
    zone = _load_zone(name)
    return zone is not None and any(d.astimezone(zone).utcoffset() == offset for d in _SAMPLE_DATES)
