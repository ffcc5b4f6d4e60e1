"""Which Salesforce objects and fields the adapter reads and writes.

:class:`FieldMap` (``DEFAULT_FIELD_MAP``) names the objects the adapter writes: Salesforce's
standard ``Campaign``, ``CampaignMemberStatus``, ``CampaignMember``, ``Contact`` and ``Lead``,
and the integration's own custom objects (:class:`OwnObject`).  :class:`WbsenditFieldMap`
names the managed package's ``wbsendit__`` objects that an existing install holds, for
reading its history (see :mod:`cmsf_core.adapters.salesforce.managed_package`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.records.campaigns import MemberStatus

__all__ = [
    "AUTO_STATUSES",
    "COUNTERS",
    "DEFAULT_FIELD_MAP",
    "LEAD_PREFIX",
    "NULL",
    "FieldMap",
    "MemberFields",
    "OwnObject",
    "WbsenditFieldMap",
]

#: Bulk 2.0's way of writing a null in a CSV cell.
NULL = "#N/A"
#: The key prefix of Lead ids (every other person id is taken as a Contact's).
LEAD_PREFIX = "00Q"
#: The member statuses Salesforce gives a new Campaign by itself (object reference,
#: CampaignMemberStatus): "Sent" is the default, "Responded" counts as responded.
AUTO_STATUSES = (
    MemberStatus("Sent", is_default=True, sort_order=1),
    MemberStatus("Responded", has_responded=True, sort_order=2),
)
#: The :class:`~cmsf_core.domain.engagement.Engagement` counters, in their order.
COUNTERS = ("sent", "opens", "clicks", "bounces", "unsubscribes", "spam_complaints")


@attrs.frozen
class OwnObject:
    """One of the integration's custom objects: its API name, the external-id field the
    adapter upserts on, the long-text field holding the value as JSON, and the fields it
    filters on (by role: ``client``, ``campaign``, ``member_ref``, ...)."""

    name: str
    key: str = "CMSF_Key__c"
    data: str = "CMSF_Data__c"
    fields: Mapping[str, str] = attrs.field(factory=dict)

    def field(self, role: str) -> str:
        """The API name of the field playing ``role``."""
        return self.fields[role]


@attrs.frozen
class MemberFields:
    """Salesforce's standard ``CampaignMember`` and the integration's fields on it.

    ``campaign``, ``contact``, ``lead`` and ``status`` are the standard fields.  The others
    are the integration's custom fields: ``key`` an external id (text, unique,
    case-sensitive) holding the SHA-256 of the member ref's JSON (64 characters),
    ``full_key`` a long text area holding that JSON, ``platform_campaign`` the platform
    campaign id,
    ``email`` the subscriber's email as the platform gave it, ``activity`` and
    ``activity_date`` the activity that last set the status, and one number field per
    engagement counter (``sent`` ... ``spam_complaints``), which reports read.
    """

    name: str = "CampaignMember"
    campaign: str = "CampaignId"
    contact: str = "ContactId"
    lead: str = "LeadId"
    status: str = "Status"
    key: str = "CMSF_Key__c"
    full_key: str = "CMSF_Full_Key__c"
    platform_campaign: str = "CMSF_Platform_Campaign__c"
    email: str = "CMSF_Email__c"
    activity: str = "CMSF_Activity__c"
    activity_date: str = "CMSF_Activity_Date__c"
    sent: str = "CMSF_Sent__c"
    opens: str = "CMSF_Opens__c"
    clicks: str = "CMSF_Clicks__c"
    bounces: str = "CMSF_Bounces__c"
    unsubscribes: str = "CMSF_Unsubscribes__c"
    spam_complaints: str = "CMSF_Spam_Complaints__c"

    @property
    def counters(self) -> dict[str, str]:
        """The field of each engagement counter, by counter name (``"opens"``, ...)."""
        return {name: getattr(self, name) for name in COUNTERS}

    def person(self, person_id: str) -> str:
        """``lead`` for a Lead id (prefix ``00Q``), ``contact`` for any other."""
        return self.lead if person_id.startswith(LEAD_PREFIX) else self.contact


@attrs.frozen
class FieldMap:
    """The Salesforce objects and fields the adapter reads and writes.

    Change any name to match the org (``attrs.evolve(DEFAULT_FIELD_MAP, ...)``).  Standard
    objects: ``Campaign`` (with the integration's ``campaign_key`` external id, created
    flag and statistics fields), ``CampaignMemberStatus``, ``CampaignMember`` (``member``:
    matched members, with the integration's fields), ``Contact`` (with ``contact_account``,
    its account) and ``Lead``.  ``campaign_member`` is the custom object holding the members
    that cannot be a ``CampaignMember`` yet (no person, see ``docs/adapters.md``).
    """

    campaign: str = "Campaign"
    campaign_key: str = "CMSF_Key__c"
    campaign_name: str = "Name"
    campaign_created: str = "CMSF_Created_By_Integration__c"
    campaign_statistics: str = "CMSF_Statistics__c"
    member_status: str = "CampaignMemberStatus"
    member: MemberFields = MemberFields()
    contact: str = "Contact"
    contact_account: str = "AccountId"
    lead: str = "Lead"
    lead_converted: str = "IsConverted"
    person_email: str = "Email"
    person_opt_out: str = "HasOptedOutOfEmail"
    person_modified: str = "LastModifiedDate"
    tracking_record: OwnObject = OwnObject(
        "CMSF_Tracking_Record__c",
        fields={
            "full_key": "CMSF_Full_Key__c",
            "client": "CMSF_Client__c",
            "member_ref": "CMSF_Member_Ref__c",
            "type": "CMSF_Type__c",
            "occurred_at": "CMSF_Occurred_At__c",
        },
    )
    platform_campaign: OwnObject = OwnObject("CMSF_Platform_Campaign__c")
    campaign_link: OwnObject = OwnObject("CMSF_Campaign_Link__c")
    campaign_member: OwnObject = OwnObject(
        "CMSF_Campaign_Member__c",
        fields={"campaign": "CMSF_Campaign__c", "person": "CMSF_Person__c"},
    )
    checkpoint: OwnObject = OwnObject("CMSF_Checkpoint__c")
    maintenance_message: OwnObject = OwnObject("CMSF_Maintenance_Message__c")
    suppression_record: OwnObject = OwnObject(
        "CMSF_Suppression_Record__c",
        fields={
            "email": "CMSF_Email__c",
            "reason": "CMSF_Reason__c",
            "suppressed_at": "CMSF_Suppressed_At__c",
        },
    )

    @staticmethod
    def wbsendit(campaign_sent_at: str, client_id: str, **names: str | None) -> WbsenditFieldMap:
        """The preset for an existing managed-package install: a :class:`WbsenditFieldMap`
        with the public ``wbsendit__`` names, the two names that are not public given, and
        any other name overridden by keyword (``activity_email=...``)."""
        return WbsenditFieldMap(campaign_sent_at, client_id, **names)  # type: ignore[arg-type]


#: The names the managed package's objects would have; see ``docs/adapters.md``.
DEFAULT_FIELD_MAP = FieldMap()


def _api_name(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a non-empty Salesforce API name (letters, digits, ``_``, and a
    dot for a relationship path)."""
    expected = "a Salesforce API name (e.g. 'wbsendit__Sent_Date__c')"
    if not isinstance(value, str):
        raise InvalidTypeError(attribute.name, expected, value)
    if not value or not all(part.isidentifier() for part in value.split(".")):
        raise InvalidValueError(attribute.name, expected, value)


#: The same check for a name that may be left out (None).
_optional_api_name = attrs.validators.optional(_api_name)


def _client_id(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidTypeError("client_id", "the platform client id (str)", value)
    if not value.strip():
        raise InvalidValueError("client_id", "a non-empty platform client id", value)


@attrs.frozen
class WbsenditFieldMap:
    """The managed package's ``wbsendit__`` objects, to read an existing install's history.

    The defaults are the names public exports of installed orgs show (see
    ``docs/adapters.md``): the campaign object ``wbsendit__Campaign_Monitor_Campaign__c``
    with ``wbsendit__Campaign_ID__c``, ``wbsendit__Subject__c``, ``wbsendit__Num_Opens__c``,
    ``wbsendit__Num_Clicks__c``, ``wbsendit__Web_Version_URL__c`` (and ``Name``, which every
    custom object has); the activity object ``wbsendit__Campaign_Activity__c`` with
    ``wbsendit__Activity__c``, ``wbsendit__Activity_Date__c``, ``wbsendit__Contact__c``,
    ``wbsendit__Lead__c``, ``wbsendit__Campaign_ID__c``.

    What is not public is required, never guessed: ``campaign_sent_at`` (the campaign's
    send date field) and ``client_id`` (the platform client the install syncs; a value, not
    a field).  ``activity_email`` (the activity's email field) is optional: without it the
    email is read through the lookups (``wbsendit__Contact__r.Email``,
    ``wbsendit__Lead__r.Email``: Salesforce names a custom lookup's relationship ``__r``).
    ``activity_detail`` (a click's URL, a bounce's type) and ``activity_list_id`` are
    optional too; without them those parts of the key are empty.
    """

    campaign_sent_at: str = attrs.field(validator=_api_name)
    client_id: str = attrs.field(validator=_client_id)
    campaign: str = attrs.field(
        default="wbsendit__Campaign_Monitor_Campaign__c", validator=_api_name
    )
    campaign_id: str = "wbsendit__Campaign_ID__c"
    campaign_name: str = "Name"
    campaign_subject: str = "wbsendit__Subject__c"
    campaign_opens: str = "wbsendit__Num_Opens__c"
    campaign_clicks: str = "wbsendit__Num_Clicks__c"
    campaign_web_version: str = "wbsendit__Web_Version_URL__c"
    activity: str = attrs.field(default="wbsendit__Campaign_Activity__c", validator=_api_name)
    activity_type: str = "wbsendit__Activity__c"
    activity_date: str = "wbsendit__Activity_Date__c"
    activity_contact: str = "wbsendit__Contact__c"
    activity_lead: str = "wbsendit__Lead__c"
    activity_campaign_id: str = "wbsendit__Campaign_ID__c"
    activity_email: str | None = attrs.field(default=None, validator=_optional_api_name)
    activity_detail: str | None = attrs.field(default=None, validator=_optional_api_name)
    activity_list_id: str | None = attrs.field(default=None, validator=_optional_api_name)

    def relationship(self, lookup: str) -> str:
        """The relationship name of a custom lookup field (``X__c`` -> ``X__r``)."""
        return lookup[:-3] + "__r" if lookup.endswith("__c") else lookup.removesuffix("Id")
