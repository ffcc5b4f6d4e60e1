"""The shell of the subscriber rules: read through the ports, plan with
:mod:`cmsf_core.domain.subscribers`, apply, report.

- :func:`sync_subscribers` runs with the primary sync (:func:`~cmsf_core.shell.sync.run_sync`
  calls it): the Email Opt Out of every contact and lead whose email changed state on a
  list since the last sync, and the suppression records.
- :func:`handle_record_changes` is what the contact and lead triggers do with a batch of
  changes: unsubscribe on opt-out, Deleted on delete, as the trigger settings allow.
- :func:`handle_account_changes` is what the account trigger does with a batch of account
  changes: the accounts' contacts have their mapped subscriber rows sent again to the
  lists they receive on.
- :func:`add_to_list` adds a contact or lead to a list, refused when it is opted out and
  the "prevent" setting is on.
- :func:`run_import` is an import-wizard run into one list.

Mobile numbers and the two consents reach the platform through :func:`run_import`,
:func:`add_to_list` and :func:`handle_account_changes` alike: numbers in E.164 for the SMS
country when SMS is enabled, neither the number nor the consent to send SMS when it is not
(:func:`~cmsf_core.domain.subscribers.to_subscriber_import`).

The package: :mod:`~cmsf_core.shell.subscriber_sync.primary` (with the primary sync),
:mod:`~cmsf_core.shell.subscriber_sync.triggers` (contact, lead and account triggers),
:mod:`~cmsf_core.shell.subscriber_sync.lists` (list adds and import-wizard runs) and
:mod:`~cmsf_core.shell.subscriber_sync.shared` (what they share).
"""

from cmsf_core.shell.people import to_subscriber_person
from cmsf_core.shell.subscriber_sync.lists import ImportReport, add_to_list, run_import
from cmsf_core.shell.subscriber_sync.primary import SubscriberSyncReport, sync_subscribers
from cmsf_core.shell.subscriber_sync.shared import (
    ListAddRefusal,
    check_client_and_settings,  # noqa: F401 - the rule shells' check, at its old path
)
from cmsf_core.shell.subscriber_sync.triggers import (
    AccountChangeReport,
    RecordChangeReport,
    handle_account_changes,
    handle_record_changes,
)

__all__ = [
    "AccountChangeReport",
    "ImportReport",
    "ListAddRefusal",
    "RecordChangeReport",
    "SubscriberSyncReport",
    "add_to_list",
    "handle_account_changes",
    "handle_record_changes",
    "run_import",
    "sync_subscribers",
    "to_subscriber_person",
]
