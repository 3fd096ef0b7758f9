"""`make bench`: run every benchmark in bench/ (files named *_bench.py), one after another.

Benchmarks print their own figures and the ratio to a baseline measured in the same run; they are never
pass/fail tests. Extra arguments are passed to each benchmark (e.g. `--accounts 20000` for a quick run).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("*_bench.py")):
        print(f"\n=== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script), *sys.argv[1:]], check=False)
        if result.returncode != 0:
            failures += 1
            print(f"!!! {script.name} exited with {result.returncode}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
