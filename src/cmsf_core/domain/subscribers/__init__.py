"""Subscribers, consent and list membership: the rules between the CRM's contacts and leads
and the platform's subscriber lists.

Every rule here is pure.  It takes what the shell read (list memberships, CRM records,
the list's current subscribers, the suppression list) and the settings it needs as
explicit keyword arguments, and returns plain frozen data: platform commands
(:class:`Unsubscribe`, :class:`MarkDeleted`, :class:`RemoveSubscriber`,
:class:`ImportSubscribers`) that a platform adapter executes, and CRM changes
(:class:`OptOutChange`, suppression records to create, update or remove) that a CRM
adapter applies.

=============================== ==========================================================
rule                            function
=============================== ==========================================================
email opt out (platform -> CRM) :func:`email_opt_out`, :func:`opt_out_changes`,
                                :func:`plan_email_opt_out`
prevent adding opted-out people :func:`list_add_refusal`, :func:`check_list_add`
unsubscribe on opt-out          :func:`unsubscribes_for_opt_out`
deleted contact or lead         :func:`delete_on_record_delete`
import wizard                   :func:`plan_import`, :func:`import_outcomes`,
                                :func:`to_subscriber_import`
triggers                        :func:`records_to_process`, :func:`plan_record_changes`,
                                :func:`contacts_to_process`, :func:`plan_account_changes`
suppression list                :func:`plan_suppression_sync`
=============================== ==========================================================

Each rule has its module in this package (``opt_out``, ``list_guards``, ``deletes``,
``import_wizard``, ``triggers``, ``suppression``), beside the values the rules read
(``values``), the platform's import request and answer (``imports``) and what the rules
hand the adapters (``commands``).  Every public name is imported from the package itself.

Email addresses are compared without regard to case or surrounding spaces, as the
platform compares them.  ``docs/subscribers.md`` describes each rule and every decision
taken where the product documentation is silent.
"""

from __future__ import annotations

from cmsf_core.domain.emails import email_key
from cmsf_core.domain.subscribers.commands import (
    CommandResult,
    CreateSuppressionRecord,
    CrmChange,
    ListChange,
    MarkDeleted,
    OptOutChange,
    PlatformCommand,
    RemoveSubscriber,
    RemoveSuppressionRecord,
    Unsubscribe,
    UpdateSuppressionRecord,
    run_on_list,
)
from cmsf_core.domain.subscribers.deletes import delete_on_record_delete
from cmsf_core.domain.subscribers.import_wizard import (
    ImportOutcome,
    ImportPlan,
    ImportRow,
    ImportStatus,
    import_outcomes,
    plan_import,
    to_subscriber_import,
)
from cmsf_core.domain.subscribers.imports import (
    IMPORT_BATCH_SIZE,
    CustomValue,
    ImportFailure,
    ImportResult,
    ImportSubscribers,
    SubscriberImport,
)
from cmsf_core.domain.subscribers.list_guards import (
    LIST_ADD_REFUSED,
    OptedOutError,
    check_list_add,
    list_add_refusal,
)
from cmsf_core.domain.subscribers.opt_out import (
    DuplicateEmail,
    OptOutPlan,
    email_opt_out,
    opt_out_changes,
    plan_email_opt_out,
    unsubscribes_for_opt_out,
)
from cmsf_core.domain.subscribers.suppression import (
    SuppressedEmail,
    SuppressionPlan,
    SuppressionRecord,
    plan_suppression_sync,
)
from cmsf_core.domain.subscribers.triggers import (
    TriggerPlan,
    contacts_to_process,
    plan_account_changes,
    plan_record_changes,
    records_to_process,
)
from cmsf_core.domain.subscribers.values import (
    Consent,
    ImportRefreshType,
    ListMembership,
    Person,
    RecordChange,
    RecordKind,
    SubscriberState,
)

__all__ = [
    "IMPORT_BATCH_SIZE",
    "LIST_ADD_REFUSED",
    "CommandResult",
    "Consent",
    "CreateSuppressionRecord",
    "CrmChange",
    "CustomValue",
    "DuplicateEmail",
    "ImportFailure",
    "ImportOutcome",
    "ImportPlan",
    "ImportRefreshType",
    "ImportResult",
    "ImportRow",
    "ImportStatus",
    "ImportSubscribers",
    "ListChange",
    "ListMembership",
    "MarkDeleted",
    "OptOutChange",
    "OptOutPlan",
    "OptedOutError",
    "Person",
    "PlatformCommand",
    "RecordChange",
    "RecordKind",
    "RemoveSubscriber",
    "RemoveSuppressionRecord",
    "SubscriberImport",
    "SubscriberState",
    "SuppressedEmail",
    "SuppressionPlan",
    "SuppressionRecord",
    "TriggerPlan",
    "Unsubscribe",
    "UpdateSuppressionRecord",
    "check_list_add",
    "contacts_to_process",
    "delete_on_record_delete",
    "email_key",
    "email_opt_out",
    "import_outcomes",
    "list_add_refusal",
    "opt_out_changes",
    "plan_account_changes",
    "plan_email_opt_out",
    "plan_import",
    "plan_record_changes",
    "plan_suppression_sync",
    "records_to_process",
    "run_on_list",
    "to_subscriber_import",
    "unsubscribes_for_opt_out",
]
