# ruff: noqa: E402
"""Load test: signed-in users walking the main pages of the demo book, against `tamarind serve`, with Locust.

    .venv/bin/python bench/load_bench.py [--users 10] [--seconds 60] [--port 8089] [--demo-accounts 3000] [--reuse]

What `make run` serves, on a var directory of its own (``var/bench/load``, or ``--var-dir``; SQLite there unless
``BENCH_LOAD_DATABASE_URL`` names a database) and a port of its own: the demo book (``tamarind demo``, 3,000
accounts), ``tamarind serve`` (gunicorn, as ``make run`` starts it) and ``tamarind worker`` beside it, the
environment ``make run`` gives them. Then ``--users`` Locust users (a mix of roles: an admin, a director, three
TAM Managers, TAMs) sign in through the login form and, for ``--seconds``, walk the main pages with a short pause
between clicks (``--wait``, 0.5 to 2 s by default; ``--wait 0`` for no pause): the accounts list (as they land on
it, filtered, sorted, paged), account pages (of accounts the list showed them), the health and onboarding
dashboards, the triage board, their tasks and their notifications.

It prints, per page: requests, errors (any answer but 200, or a page that is not the one asked for), p50 and p95
of the response time (exact, from every request's own time), and the target: no error and p95 under 1 s on every
page. Locust (https://locust.io) drives the users as a library, in this process; the server runs apart.
"""

from __future__ import annotations

# Locust runs its users on gevent: the standard library is patched first, before anything opens a socket.
from gevent import monkey

monkey.patch_all()

import argparse
import itertools
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import gevent
import locust
from locust import HttpUser, between, constant, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_P95 = 1.0
DEMO_PASSWORD = "tamarind-demo"  # tamarind.accounts.demo.DEMO_PASSWORD: every demo login
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ACCOUNT_LINK = re.compile(r'href="/accounts/(\d+)/"')
# The roles of the users, in the order they are handed out (ten users: all of these; more: TAMs).
ROLES = ["admin", "director", "manager", "manager", "manager", "tam", "tam", "tam", "tam", "tam"]

PEOPLE_SCRIPT = """
import json
from django.db.models import Count
from tamarind.people.models import Role, User
active = User.objects.active()
out = {
    "admin": list(active.filter(role=Role.ADMIN).order_by("pk").values_list("email", flat=True)[:1]),
    "director": list(active.filter(role=Role.DIRECTOR).order_by("pk").values_list("email", flat=True)[:1]),
    "manager": list(active.filter(role=Role.MANAGER, managed_region__isnull=False).order_by("pk")
                    .values_list("email", flat=True)),
    "tam": list(active.filter(role=Role.TAM).annotate(n=Count("tam_accounts")).order_by("-n", "pk")
                .values_list("email", flat=True)[:40]),
}
print("PEOPLE " + json.dumps(out))
"""


# --- The server ---------------------------------------------------------------------------------------------------


def server_env(var_dir: Path, port: int) -> dict[str, str]:
    """The environment `make run` gives the server and the worker, on this var directory and port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAMARIND_") and k != "DATABASE_URL"}
    env.update(
        TAMARIND_VAR_DIR=str(var_dir),
        TAMARIND_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        TAMARIND_BASE_URL=f"http://127.0.0.1:{port}",
        PORT=str(port),
    )
    if os.environ.get("BENCH_LOAD_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["BENCH_LOAD_DATABASE_URL"]
    return env


def tamarind(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "tamarind"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"`tamarind {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """A `tamarind` process in a session of its own (so it is stopped with its children), output to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN / "tamarind"), *args], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"The server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"The server did not answer on {url} within {timeout:.0f} s.")


# --- The users ----------------------------------------------------------------------------------------------------


class Walker(HttpUser):
    """A signed-in person walking the main pages. ``logins`` (role, email) are handed out in turn."""

    abstract = True
    logins: itertools.cycle[tuple[str, str]]
    samples: dict[str, list[float]]
    errors: dict[str, list[str]]

    def on_start(self) -> None:
        self.role, self.email = next(self.logins)
        self.accounts: list[int] = []
        page = self.client.get("/login/", name="login")
        token = CSRF.search(page.text)
        with self.client.post(
            "/login/",
            data={
                "username": self.email,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/login/"},
            name="login",
            catch_response=True,
        ) as response:
            if "/login/" in response.url:
                response.failure(f"{self.email} could not sign in")
            else:
                self.seen(response.text)

    def seen(self, body: str) -> None:
        ids = [int(pk) for pk in ACCOUNT_LINK.findall(body)]
        if ids:
            self.accounts = ids[:50]

    def visit(self, name: str, path: str, marker: str) -> None:
        """GET ``path`` as page ``name``; anything but a 200 showing ``marker`` counts as an error."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}" + (f": {response.error}" if response.error else ""))
            elif "/login/" in response.url:
                response.failure("signed out")
            elif marker not in response.text:
                response.failure(f"not the page: {marker!r} missing")
            elif name == "accounts list":
                self.seen(response.text)

    @task(5)
    def accounts_list(self) -> None:
        variant = random.choice(
            ["", "?scope=all", "?health=red", "?sort=-arr", "?sort=tam", "?page=2", "?segment=enterprise&sort=renewal"]
        )
        self.visit("accounts list", f"/accounts/{variant}", 'id="account-table"')

    @task(5)
    def account_page(self) -> None:
        if self.accounts:
            self.visit("account page", f"/accounts/{random.choice(self.accounts)}/", 'id="owners"')

    @task(2)
    def health_dashboard(self) -> None:
        self.visit("health dashboard", "/dashboards/health/", "<h1>")

    @task(2)
    def onboarding_dashboard(self) -> None:
        self.visit("onboarding dashboard", "/dashboards/onboarding/", 'id="dashboard-tams"')

    @task(2)
    def triage_board(self) -> None:
        self.visit("triage board", "/triage/", "<h1>")

    @task(2)
    def my_tasks(self) -> None:
        path = "/tasks/team/" if self.role in ("admin", "director", "manager") and random.random() < 0.5 else "/tasks/"
        self.visit("tasks", path, "<h1>")

    @task(1)
    def notifications(self) -> None:
        self.visit("notifications", "/notifications/", "<h1>")


def people(env: dict[str, str], users: int) -> list[tuple[str, str]]:
    """(role, email) for each user: the roles of ``ROLES`` in turn, different people of each role where the book
    has them."""
    found = json.loads(tamarind(env, "shell", "-c", PEOPLE_SCRIPT).split("PEOPLE ", 1)[1])
    roles = ROLES[:users] + ["tam"] * max(0, users - len(ROLES))
    taken: dict[str, int] = defaultdict(int)
    out = []
    for role in roles:
        emails = found[role] or found["tam"]
        out.append((role, emails[taken[role] % len(emails)]))
        taken[role] += 1
    return out


# --- The run ------------------------------------------------------------------------------------------------------


def run(host: str, logins: list[tuple[str, str]], *, seconds: float, wait: tuple[float, float]) -> Environment:
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    user_class = type(
        "Person",
        (Walker,),
        {
            "abstract": False,
            "host": host,
            "logins": itertools.cycle(logins),
            "wait_time": between(*wait) if wait[1] > 0 else constant(0),
            "samples": samples,
            "errors": errors,
        },
    )
    env = Environment(user_classes=[user_class], host=host)
    measuring = {"on": False}

    def record(request_type: str, name: str, response_time: float, exception: Any, **_: Any) -> None:
        # Sign-ins count from the start; the pages only once every user walks (after the ramp-up).
        if name == "login" or measuring["on"]:
            samples[name].append(response_time / 1000)
            if exception is not None:
                errors[name].append(str(exception)[:200])

    env.events.request.add_listener(record)
    runner = env.create_local_runner()
    runner.start(len(logins), spawn_rate=len(logins))
    gevent.sleep(2)  # every user signed in and landed
    measuring["on"] = True
    gevent.sleep(seconds)
    measuring["on"] = False
    runner.quit()
    env.samples, env.errors = samples, errors  # type: ignore[attr-defined]
    return env


def report(env: Environment, seconds: float) -> bool:
    samples: dict[str, list[float]] = env.samples  # type: ignore[attr-defined]
    errors: dict[str, list[str]] = env.errors  # type: ignore[attr-defined]
    print(f"\n  {'page':<22} {'requests':>8} {'errors':>7} {'req/s':>6}   {'p50':>9} {'p95':>9} {'max':>9}")
    ok = True
    for name in sorted(samples, key=lambda n: (n == "login", n)):
        times = sorted(samples[name])
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        rate = "" if name == "login" else f"{len(times) / seconds:6.1f}"
        print(
            f"  {name:<22} {len(times):>8} {len(errors[name]):>7} {rate:>6}   {statistics.median(times) * 1000:6.0f} ms"
            f" {p95 * 1000:6.0f} ms {times[-1] * 1000:6.0f} ms"
        )
        if name != "login" and (errors[name] or p95 >= TARGET_P95):
            ok = False
    for name, messages in errors.items():
        for message in sorted(set(messages))[:3]:
            print(f"  ! {name}: {message}")
    total = sum(len(v) for k, v in samples.items() if k != "login")
    print(f"\n  {total} page requests in {seconds:.0f} s ({total / seconds:.1f}/s)")
    verdict = "met" if ok else "NOT met"
    print(f"target: no error and p95 < {TARGET_P95:g} s on every page: {verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--wait", default="0.5,2", help="pause between a user's clicks, min,max seconds (0: none)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_LOAD_PORT", "8089")))
    parser.add_argument("--demo-accounts", type=int, default=3000)
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench" / "load")
    parser.add_argument("--reuse", action="store_true", help="keep the var directory's demo book when there is one")
    parser.add_argument("--no-worker", action="store_true", help="serve without `tamarind worker` beside it")
    args, unknown = parser.parse_known_args()
    if unknown:
        print(f"(ignoring {' '.join(unknown)}: the load test runs on the demo book)")
    low, _, high = args.wait.partition(",")
    wait = (float(low), float(high or low))

    var_dir: Path = args.var_dir.resolve()
    if not args.reuse and var_dir.exists():
        shutil.rmtree(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(var_dir, args.port)
    host = f"http://127.0.0.1:{args.port}"
    started = time.perf_counter()
    tamarind(env, "migrate", "--noinput")
    loaded = tamarind(env, "demo", "--accounts", str(args.demo_accounts), "--if-empty").strip().splitlines()
    print(f"Demo book in {var_dir} ({time.perf_counter() - started:.0f} s): {loaded[0] if loaded else ''}")
    logins = people(env, args.users)

    log = var_dir / "serve.log"
    procs = [start(env, log, "serve")]
    if not args.no_worker:
        procs.append(start(env, var_dir / "worker.log", "worker"))
    try:
        wait_until_up(host, procs[0], log)
        print(
            f"Serving on {host} (`tamarind serve`: gunicorn{'' if args.no_worker else ', and `tamarind worker`'}); "
            f"{len(logins)} users ({', '.join(sorted({r for r, _ in logins}))}) for {args.seconds:.0f} s, "
            f"{'no pause' if wait[1] == 0 else f'{wait[0]:g}-{wait[1]:g} s'} between clicks. Locust {locust.__version__}."
        )
        result = run(host, logins, seconds=args.seconds, wait=wait)
    finally:
        for proc in procs:
            stop(proc)
    report(result, args.seconds)
    server_errors = sum(1 for line in log.read_text().splitlines() if re.search(r'" 5\d\d ', line))
    if server_errors:
        print(f"  the server answered {server_errors} requests with a 5xx (see {log})")
    return 0  # a benchmark reports its figures; it is not a pass/fail test


if __name__ == "__main__":
    sys.exit(main())
