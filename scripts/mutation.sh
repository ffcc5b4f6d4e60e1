#!/usr/bin/env bash
# Mutation testing of cmsf_core.domain with mutmut 3 (slow: run by hand, not in CI).
#
#   scripts/mutation.sh                      # the default modules (DEFAULT_MODULES below)
#   scripts/mutation.sh status retention     # only these modules of src/cmsf_core/domain
#   MUTATION_JOBS=2 scripts/mutation.sh      # parallel workers (default: the CPU count)
#   PYTHON=/path/to/venv/bin/python ...      # the interpreter (default: .venv/bin/python)
#   MUTATION_RETEST=1 scripts/mutation.sh    # re-run only the survivors (and new mutants)
#                                            # (after adding tests: mutmut keeps verdicts)
#
# The run happens in a scratch copy of the project (MUTATION_DIR, default
# /tmp/cmsf-mutation), so the work tree gets no `mutants/` folder and pyproject.toml no
# mutmut section.  Mutmut keeps its results there: a second run re-tests only the mutants
# of functions that changed.  The score printed at the end is
# (killed + timed out) / (all mutants - skipped); survivors are listed, and
# `mutmut show NAME` run inside MUTATION_DIR prints the diff of one.
#
# mutmut 3 mutates code inside functions only: attrs defaults and validators written as
# class-level field definitions are pinned by their own unit tests instead.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY="$(command -v python3)"
WORK="${MUTATION_DIR:-/tmp/cmsf-mutation}"
MUTMUT_VERSION="3.8.1"

DEFAULT_MODULES=(status retention engagement activity settings planner diagnose)
if [ "$#" -gt 0 ]; then MODULES=("$@"); else MODULES=("${DEFAULT_MODULES[@]}"); fi

if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('mutmut') != '$MUTMUT_VERSION')" 2>/dev/null; then
    "$PY" -m pip install --quiet "mutmut==$MUTMUT_VERSION"
fi
MUTMUT="$(dirname "$PY")/mutmut"

mkdir -p "$WORK"
# The project as it is now (tracked and untracked files alike), minus caches.  A file is
# copied only when its content changed: mutmut compares modification times to know what it
# has already mutated, so a second run re-tests only what changed.
"$PY" - "$ROOT" "$WORK" <<'PYTHON'
import filecmp
import shutil
import sys
from pathlib import Path

root, work = Path(sys.argv[1]), Path(sys.argv[2])
skip = {"__pycache__", ".hypothesis", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
wanted = set()
for name in ("src", "tests", "docs", "README.md", "pyproject.toml"):
    top = root / name
    files = [top] if top.is_file() else [f for f in top.rglob("*") if f.is_file()]
    for source in files:
        rel = source.relative_to(root)
        if skip & set(rel.parts):
            continue
        wanted.add(rel)
        target = work / rel
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
for name in ("src", "tests", "docs"):
    for target in list((work / name).rglob("*")):
        rel = target.relative_to(work)
        if target.is_file() and not skip & set(rel.parts) and rel not in wanted:
            target.unlink()
PYTHON

only=""
for module in "${MODULES[@]}"; do
    only="$only\"src/cmsf_core/domain/${module%.py}.py\", "
done
cat >>"$WORK/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = ["src"]
only_mutate = [${only%, }]
# The unit and property suites exercise the domain; the docs and adapter suites add
# time per mutant and kill nothing the others do not.
pytest_add_cli_args_test_selection = ["tests/unit", "tests/properties"]
# test_architecture reads the domain's imports, and mutated modules import mutmut's
# trampoline: it would fail for every mutant.
pytest_add_cli_args = [
    "-p", "no:cacheprovider", "-q", "-x", "--ignore=tests/unit/test_architecture.py",
]
use_git_change_detection = false
TOML

cd "$WORK"
export CI=true  # the deterministic Hypothesis profile: a mutant's verdict does not vary
# Fewer examples per property than the ci profile's 200 keep a run within half an hour;
# MUTATION_HYPOTHESIS_EXAMPLES=200 gives the ci profile's full count.
export CMSF_HYPOTHESIS_MAX_EXAMPLES="${MUTATION_HYPOTHESIS_EXAMPLES:-50}"
jobs=()
if [ -n "${MUTATION_JOBS:-}" ]; then jobs=(--max-children "$MUTATION_JOBS"); fi
names=()
if [ -n "${MUTATION_RETEST:-}" ]; then
    # mutmut keeps each verdict until the mutated function changes; new tests only count
    # for a mutant that is named again.
    mapfile -t names < <("$MUTMUT" results 2>/dev/null | awk -F: '/survived|no tests|not checked/ {gsub(/ /, "", $1); print $1}')
    echo "re-testing ${#names[@]} surviving mutants"
fi
status=0
"$MUTMUT" run "${jobs[@]}" "${names[@]}" || status=$?
"$MUTMUT" export-cicd-stats >/dev/null || exit "$((status ? status : 1))"
"$PY" - <<'PYTHON'
import json
from pathlib import Path

stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())
# A mutant that makes the suite hang is caught too (the run times out).
caught = stats["killed"] + stats["timeout"]
tested = stats["total"] - stats["skipped"] - stats["check_was_interrupted_by_user"]
score = 100 * caught / tested if tested else 0.0
print(json.dumps(stats, indent=1))
print(f"mutation score: {caught}/{tested} caught = {score:.1f}%")
PYTHON
echo "survivors (diff of one: cd $WORK && $MUTMUT show NAME):"
"$MUTMUT" results 2>/dev/null | grep -E "survived|suspicious|no tests" || echo "  none"
exit "$status"
