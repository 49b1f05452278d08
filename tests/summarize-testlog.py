#!/usr/bin/env python3
"""Counts meson's test log and prints the closing line `N passed, N failed`.

Exit status 1 when any test failed or no test ran at all."""
import json
import sys

PASSED = {"OK", "EXPECTEDFAIL"}

def main(path):
    passed = failed = 0
    failures = []
    try:
        with open(path, encoding="utf-8") as log:
            for line in log:
                if not line.strip():
                    continue
                entry = json.loads(line)
                if entry.get("result") in PASSED:
                    passed += 1
                else:
                    failed += 1
                    failures.append(f"{entry.get('name')}: {entry.get('result')}")
    except OSError as err:
        print(f"no test log at {path}: {err.strerror}", file=sys.stderr)
    for failure in failures:
        print(f"FAILED {failure}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
