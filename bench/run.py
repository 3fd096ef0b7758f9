"""`make bench`: run every benchmark in bench/ (files named *_bench.py), one after another.

Benchmarks print their own figures and the ratio to a baseline measured in the same run; they are never
pass/fail tests. Extra arguments are passed to each benchmark (e.g. `--accounts 20000` for a quick run).

    .venv/bin/python bench/run.py [--only NAME[,NAME...]] [benchmark arguments]

``--only pages`` runs ``pages_bench.py`` alone (``make bench BENCH=pages``); ``--list`` names them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> dict[str, Path]:
    return {script.name.removesuffix("_bench.py"): script for script in sorted(HERE.glob("*_bench.py"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], add_help=False)
    parser.add_argument("--only", default="", help="comma-separated benchmark names (e.g. pages,load)")
    parser.add_argument("--list", action="store_true", help="name the benchmarks and exit")
    args, rest = parser.parse_known_args()
    found = benchmarks()
    if args.list:
        print("\n".join(found))
        return 0
    wanted = [name.strip().removesuffix("_bench.py").removesuffix("_bench") for name in args.only.split(",") if name]
    unknown = [name for name in wanted if name not in found]
    if unknown:
        print(f"No benchmark named {', '.join(unknown)}; there are: {', '.join(found)}", file=sys.stderr)
        return 2
    failures = 0
    for name, script in found.items():
        if wanted and name not in wanted:
            continue
        print(f"\n=== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script), *rest], check=False)
        if result.returncode != 0:
            failures += 1
            print(f"!!! {script.name} exited with {result.returncode}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
