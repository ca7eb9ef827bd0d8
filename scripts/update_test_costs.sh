#!/usr/bin/env bash
# Writes tests/ctest_costs.txt anew from a build's last full `ctest` run (ctest's own record of
# each test's average seconds, BUILD/Testing/Temporary/CTestCostData.txt), without its list of
# failed tests. A new build lays that file where ctest reads it (tests/CMakeLists.txt), so that
# `ctest -j 2` starts the longest tests first in a fresh clone too.
#   scripts/update_test_costs.sh [BUILD_DIR]     (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-build}/Testing/Temporary/CTestCostData.txt
[ -f "$data" ] || { echo "update_test_costs: $data is absent: run make test first"; exit 1; }
sed '/^---$/,$d' "$data" | sort -k3,3 -g -r >tests/ctest_costs.txt
echo "update_test_costs: $(wc -l <tests/ctest_costs.txt) tests into tests/ctest_costs.txt; the longest:"
head -5 tests/ctest_costs.txt
