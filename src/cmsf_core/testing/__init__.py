"""Contract tests for the ports: any implementation of :class:`~cmsf_core.ports.crm.CrmStore`
or :class:`~cmsf_core.ports.platform.EmailPlatform` runs the same checks.

The contracts are plain pytest test classes.  Subclass one in a ``test_*.py`` module, under a
name pytest collects (``Test...``), and give it the one hook it needs::

    from cmsf_core.testing import CrmStoreContract, EmailPlatformContract, PlatformSeed

    class TestMyCrm(CrmStoreContract):
        def make_crm(self) -> CrmStore:
            return MyCrm(connection_for_tests())

    class TestMyPlatform(EmailPlatformContract):
        def make_platform(self, seed: PlatformSeed) -> EmailPlatform:
            write_fixture_files(tmp_dir(), seed)
            return MyFilePlatform(tmp_dir())

Every test asks its hook for a fresh, empty store (or a platform serving exactly the seed):
the contracts seed the CRM through the port's own write methods, since the port has no
seeding methods.  Contacts and leads are the exception: the CRM side only reads them, so
:meth:`CrmStoreContract.add_person` calls the store's ``add_person`` when it has one (as
:class:`~cmsf_core.adapters.memory.InMemoryCrm` does) and the tests that need people are
skipped otherwise; override it to add them your own way.

The property tests use Hypothesis (the ``[hypothesis]`` extra).  The suites import pytest
and Hypothesis only inside the tests, so importing it costs nothing; the properties are
skipped when Hypothesis is not installed.  ``property_examples`` caps their example count
for a slow adapter (``None``: the active Hypothesis profile decides).

For pytest's detailed assertion messages inside the contracts, register the package (its
modules come with it) for assertion rewriting before importing it (in ``conftest.py``, or
at the top of the test module): ``pytest.register_assert_rewrite("cmsf_core.testing")``.
"""

from cmsf_core.testing._support import T0 as T0  # the instant the suites build around
from cmsf_core.testing.crm_contract import CrmStoreContract
from cmsf_core.testing.platform_contract import EmailPlatformContract, read_whole_stream
from cmsf_core.testing.seed import PlatformSeed, SeedMembership, standard_seed

__all__ = [
    "CrmStoreContract",
    "EmailPlatformContract",
    "PlatformSeed",
    "SeedMembership",
    "read_whole_stream",
    "standard_seed",
]
