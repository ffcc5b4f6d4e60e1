"""The :class:`~cmsf_core.ports.crm.CrmStore` contract suite: :class:`CrmStoreContract`,
one test class made of a part per area of the port (checkpoints, campaigns, tracking
records, members, people, fields), each in its own module.
"""

from __future__ import annotations

from cmsf_core.testing.crm_contract._base import CrmContractBase
from cmsf_core.testing.crm_contract.campaigns import CampaignContract
from cmsf_core.testing.crm_contract.checkpoints import CheckpointContract
from cmsf_core.testing.crm_contract.fields import FieldContract
from cmsf_core.testing.crm_contract.members import MemberContract
from cmsf_core.testing.crm_contract.people import PeopleContract
from cmsf_core.testing.crm_contract.records import RecordContract

__all__ = [
    "CampaignContract",
    "CheckpointContract",
    "CrmContractBase",
    "CrmStoreContract",
    "FieldContract",
    "MemberContract",
    "PeopleContract",
    "RecordContract",
]


class CrmStoreContract(
    CheckpointContract,
    CampaignContract,
    RecordContract,
    MemberContract,
    PeopleContract,
    FieldContract,
):
    """The documented behaviour of every :class:`~cmsf_core.ports.crm.CrmStore` method.

    Subclass it (as ``Test...``) and implement :meth:`make_crm`.
    """
