"""Custom field mappings: typed conversions between CRM fields and platform custom fields,
both ways, and each list's new subscriber rule.  ``docs/field-mappings.md`` walks through
every feature."""

from __future__ import annotations

from cmsf_core.domain.field_mappings.convert import (
    CrmValue,
    FieldConversionError,
    PlatformValue,
    to_crm_value,
    to_platform_value,
)
from cmsf_core.domain.field_mappings.plan import (
    FIELD_VALUE_NOT_CONVERTED,
    NEW_SUBSCRIBER_REFUSED,
    CreatePerson,
    CrmFieldPlan,
    FieldUpdate,
    MappedFields,
    PlatformSubscriber,
    conversion_message,
    mapped_custom_fields,
    plan_crm_fields,
    platform_fields_to_create,
    same_crm_value,
)
from cmsf_core.domain.field_mappings.values import (
    COMPATIBLE_TYPES,
    DEFAULT_PLATFORM_TYPES,
    REQUIRED_FIELDS,
    US_STATES,
    Direction,
    FieldMapping,
    ListFieldMappings,
    NewSubscriberAction,
    NewSubscriberRule,
    PlatformField,
    PlatformFieldType,
    platform_key,
)

__all__ = [
    "COMPATIBLE_TYPES",
    "DEFAULT_PLATFORM_TYPES",
    "FIELD_VALUE_NOT_CONVERTED",
    "NEW_SUBSCRIBER_REFUSED",
    "REQUIRED_FIELDS",
    "US_STATES",
    "CreatePerson",
    "CrmFieldPlan",
    "CrmValue",
    "Direction",
    "FieldConversionError",
    "FieldMapping",
    "FieldUpdate",
    "ListFieldMappings",
    "MappedFields",
    "NewSubscriberAction",
    "NewSubscriberRule",
    "PlatformField",
    "PlatformFieldType",
    "PlatformSubscriber",
    "PlatformValue",
    "conversion_message",
    "mapped_custom_fields",
    "plan_crm_fields",
    "platform_fields_to_create",
    "platform_key",
    "same_crm_value",
    "to_crm_value",
    "to_platform_value",
]
