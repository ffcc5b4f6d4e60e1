"""The CRM port over Salesforce, with ``simple-salesforce``.

:class:`SalesforceCrm` implements :class:`~cmsf_core.ports.crm.CrmStore` on a
``simple_salesforce.Salesforce`` connection: every read is a SOQL query built with
``format_soql``, cut to Salesforce's request limits and read to its last page; every write
is a Bulk 2.0 job (upsert on an external id, insert, update or delete), whose failed records
(``sf__Error``) become the :class:`~cmsf_core.domain.records.WriteResult` failures.  Install
the ``[salesforce]`` extra; ``simple_salesforce`` is imported on first use only.

The modules, by what they hold:

- :mod:`.field_maps`: which objects and fields are used (:class:`FieldMap`,
  ``DEFAULT_FIELD_MAP``) and the managed package's ``wbsendit__`` objects
  (:class:`WbsenditFieldMap`);
- :mod:`.codec`: values to and from JSON fields, CSV cells and date-times, and the tracking
  records' fixed-length external id;
- :mod:`.queries`: SOQL statements cut to the 16,384-byte request limit;
- :mod:`.wire`: every HTTP exchange (timeouts, retries, the OAuth token and its renewal);
- :mod:`.connection`: the client calls, their errors, the Bulk 2.0 jobs and the retry of
  locked records;
- :mod:`.crm`: :class:`SalesforceCrm`, the reads and writes of the port;
- :mod:`.tracking`: the tracking records' digest external ids, and the migration of the
  old JSON ones;
- :mod:`.members`, :mod:`.statuses`, :mod:`.checkpoints`, :mod:`.suppression`: saving
  campaign members, a new campaign's statuses, the checkpoints (in parts when long), the
  suppression records;
- :mod:`.people`, :mod:`.person_fields`: contacts and leads (found by email or account,
  their opt-out) and their field values;
- :mod:`.managed_package`: reading an existing install's campaigns and activity history.

``docs/adapters.md`` describes all of it.
"""

from __future__ import annotations

from cmsf_core.adapters.salesforce.crm import SalesforceCrm
from cmsf_core.adapters.salesforce.field_maps import (
    AUTO_STATUSES,
    COUNTERS,
    DEFAULT_FIELD_MAP,
    FieldMap,
    MemberFields,
    OwnObject,
    WbsenditFieldMap,
)
from cmsf_core.adapters.salesforce.managed_package import ManagedPackageHistory
from cmsf_core.adapters.salesforce.queries import HEADER_ALLOWANCE, MAX_REQUEST_BYTES

__all__ = [
    "AUTO_STATUSES",
    "COUNTERS",
    "DEFAULT_FIELD_MAP",
    "HEADER_ALLOWANCE",
    "MAX_REQUEST_BYTES",
    "FieldMap",
    "ManagedPackageHistory",
    "MemberFields",
    "OwnObject",
    "SalesforceCrm",
    "WbsenditFieldMap",
]
