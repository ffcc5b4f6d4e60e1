"""Every ``python`` example of the README and ``docs/`` runs, with the services replaced.

The examples that connect to Campaign Monitor and Salesforce are written for live
accounts.  Here each runs as written, in a scratch folder, with only the wire replaced:

- Campaign Monitor: ``createsend``'s HTTPS connection class is swapped for a plain HTTP
  connection to the local fake API server of ``test_campaign_monitor`` (everything above
  the socket - the adapter, its transport, retries and the ``createsend`` client - runs);
- Salesforce: ``requests.Session`` is swapped for the in-memory fake org of
  ``salesforce_fake`` (simple-salesforce and the adapter run unchanged, except that the
  pause between Bulk 2.0 job polls is skipped: the fake's jobs are complete at once);
- credentials come from the environment variables the examples read, set to the fakes'
  planted values; ``export/`` holds the example export of ``tests/data/platform``.

After a block has run, every adapter it built must have reached its fake, and every sync
report it made must have been applied.
"""

from __future__ import annotations

import http.client
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import createsend
import pytest
import requests
import salesforce_fake as sf_fake
import simple_salesforce.bulk2
import test_campaign_monitor as cm_fake

from cmsf_core.adapters.campaign_monitor import CampaignMonitorPlatform
from cmsf_core.adapters.salesforce import SalesforceCrm
from cmsf_core.shell.sync import SyncReport
from cmsf_core.testing import T0, PlatformSeed, standard_seed

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
EXPORT = ROOT / "tests" / "data" / "platform"
ORG = "https://yourorg.my.salesforce.com"  # the instance the examples name
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{line}", match[1]))
    return found


BLOCKS = _blocks()


def _recent_seed() -> PlatformSeed:
    """The platform contract's account, moved so that its events happened yesterday (the
    examples sync ``as_of=datetime.now(UTC)`` under the default retention)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    shift = (now - timedelta(days=1)) - T0
    seed = standard_seed()
    return PlatformSeed(
        clients=seed.clients,
        campaigns=[attrs.evolve(c, sent_at=c.sent_at + shift) for c in seed.campaigns],
        events=[
            (cid, attrs.evolve(e, occurred_at=e.occurred_at + shift)) for cid, e in seed.events
        ],
        summaries=seed.summaries,
        memberships=seed.memberships,
        suppressed=seed.suppressed,
    )


@pytest.fixture(scope="module")
def cm_server() -> Iterator[cm_fake.FakeCampaignMonitor]:
    server = cm_fake.FakeCampaignMonitor()
    yield server
    server.close()


@attrs.define
class Services:
    """The fakes one example ran against."""

    campaign_monitor: cm_fake.FakeCampaignMonitor
    salesforce: list[sf_fake.FakeSalesforce] = attrs.Factory(list)


@pytest.fixture
def services(
    cm_server: cm_fake.FakeCampaignMonitor,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Services:
    cm_server.load(_recent_seed())
    cm_server.requests.clear()
    found = Services(cm_server)
    netloc = cm_server.base_uri.split("/")[2]

    class ToTheFake(http.client.HTTPConnection):
        """Stands in for createsend's VerifiedHTTPSConnection: same call, local fake."""

        def __init__(self, host: str, **kwargs: Any) -> None:
            assert host == "api.createsend.com", host  # the examples' real endpoint
            super().__init__(netloc, timeout=kwargs.get("timeout"))

    def fake_org() -> sf_fake.FakeSalesforce:
        org = sf_fake.FakeSalesforce()
        found.salesforce.append(org)
        return org

    monkeypatch.setattr(createsend, "VerifiedHTTPSConnection", ToTheFake)
    monkeypatch.setattr(requests, "Session", fake_org)
    # The fake org's Bulk 2.0 jobs are complete at once: skip the client's polling pause.
    monkeypatch.setattr(simple_salesforce.bulk2, "sleep", lambda _seconds: None)
    monkeypatch.setattr(sf_fake, "INSTANCE", ORG)
    monkeypatch.setenv("CM_API_KEY", cm_fake.API_KEY)
    monkeypatch.setenv("SF_ACCESS_TOKEN", sf_fake.SESSION_ID)
    monkeypatch.setenv("SF_REFRESH_TOKEN", sf_fake.REFRESH_TOKEN)
    monkeypatch.setenv("SF_CLIENT_ID", sf_fake.CLIENT_ID)
    monkeypatch.setenv("SF_CLIENT_SECRET", sf_fake.CLIENT_SECRET)
    shutil.copytree(EXPORT, tmp_path / "export")
    monkeypatch.chdir(tmp_path)
    return found


def test_the_documents_have_python_examples() -> None:
    """The README's and docs/adapters.md's connection examples are found (a renamed
    fence would otherwise skip them silently)."""
    where = {name.split(":")[0] for name, _code in BLOCKS}
    assert {"README.md", "docs/adapters.md", "docs/file-platform.md"} <= where


@pytest.mark.parametrize(("name", "code"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_a_python_example_runs_against_the_fakes(
    name: str, code: str, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs as written; what it connected to was reached, what it synced was
    applied."""
    namespace: dict[str, Any] = {"__name__": f"example {name}"}
    exec(compile(code, name, "exec"), namespace)

    values = list(namespace.values())
    platforms = [v for v in values if isinstance(v, CampaignMonitorPlatform)]
    crms = [v for v in values if isinstance(v, SalesforceCrm)]
    reports = [v for v in values if isinstance(v, SyncReport)]
    if platforms:
        paths = [r.path for r in services.campaign_monitor.requests]
        assert any("/clients.json" in p for p in paths), paths
    if crms:
        calls = [url for org in services.salesforce for _method, url in org.calls]
        assert calls
        assert all(url.startswith(ORG) for url in calls), calls
    for report in reports:
        assert report.applied, report.summary()
    printed = capsys.readouterr().out
    if "print(run_sync(" in code:
        assert "records inserted" in printed, printed
    assert platforms or crms or reports, f"{name} built nothing this test can check"
