"""How a large sync meets Salesforce's request limits, over the limit-enforcing fake org.

One ``run_sync`` of a campaign sent to N recipients (default 5,000) with 60-character
emails, each of whom opened it and clicked a 200-character UTM-tagged URL, through
``SalesforceCrm`` and simple-salesforce into ``tests/adapters/salesforce_fake.py`` (no
network).  Prints the number of HTTP requests, the largest request line plus headers
(Salesforce refuses more than 16,384 bytes), the longest SOQL statement, the longest
external id written (a Text field holds 255) and the wall time.

    python bench/salesforce_requests.py [--recipients 5000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "adapters"))

from salesforce_fake import (
    INSTANCE,
    SESSION_ID,
    WORKLOAD_SENT,
    FakeSalesforce,
    long_workload,
)

from cmsf_core import Settings
from cmsf_core.adapters.salesforce import SalesforceCrm
from cmsf_core.domain.connection import Secret
from cmsf_core.shell.sync import run_sync


def main() -> None:
    """Run the sync and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5_000)
    args = parser.parse_args()
    fake = FakeSalesforce()
    crm = SalesforceCrm.connect(
        INSTANCE, Secret(SESSION_ID), session=fake, bulk_wait=0, sleep=lambda _s: None
    )
    platform, expected = long_workload(fake, crm, args.recipients)
    before = len(fake.calls)
    fake.max_request_bytes = fake.max_soql_chars = fake.max_external_id = 0
    started = time.perf_counter()
    report = run_sync(crm, platform, Settings(), as_of=WORKLOAD_SENT + timedelta(days=2))
    elapsed = time.perf_counter() - started
    calls = fake.calls[before:]
    kinds = Counter(
        "query" if "/query/" in url else "bulk" if "/jobs/" in url else "other"
        for _method, url in calls
    )
    stored = len(fake.table(crm.field_map.tracking_record.name))
    lines = [
        f"recipients                      {args.recipients:>10,}",
        f"tracking records stored         {stored:>10,} (expected {expected:,})",
        f"sync applied                    {report.applied!s:>10}",
        f"HTTP requests                   {len(calls):>10,} "
        f"(query {kinds['query']:,}, bulk {kinds['bulk']:,}, other {kinds['other']:,})",
        f"max request line + headers      {fake.max_request_bytes:>10,} bytes (limit 16,384)",
        f"max SOQL statement              {fake.max_soql_chars:>10,} chars (limit 100,000)",
        f"max external id                 {fake.max_external_id:>10,} chars (limit 255)",
        f"time (sync, fake org included)  {elapsed:>10.1f} s",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    broken = fake.max_request_bytes > 16_384 or fake.max_external_id > 255
    if not report.applied or stored != expected or broken:
        raise SystemExit("a limit was broken or a record is missing")


if __name__ == "__main__":
    main()
