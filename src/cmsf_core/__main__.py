"""``python -m cmsf_core``: the same as the ``cmsf`` command."""

from __future__ import annotations

import sys

from cmsf_core.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
