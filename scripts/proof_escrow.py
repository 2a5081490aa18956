"""The escrow's property-based proof (`make proof-escrow`): at least 10,000 generated money histories.

    .venv/bin/python scripts/proof_escrow.py                        # 10,000 cases in 2 processes
    .venv/bin/python scripts/proof_escrow.py --cases 500 --workers 1 --seed 7

Runs tests/escrow/test_escrow_properties.py (the driver and its invariants: tests/escrow/escrow_machine.py)
with the `escrow-proof` Hypothesis profile in `--workers` pytest processes side by side, each with
`--cases / --workers` cases, its own Hypothesis seed (`--seed` + i, so a run is reproducible and the
processes explore different cases), its own PostgreSQL database (pytest-django creates
test_<name>_proof<i> from DATABASE_URL's server, fresh each run) and the simulator in Redis database
`--redis-db` (a namespace per case). A sample of the cases (`--validate-every`) also sends every gateway
call to stripe-mock, which checks it against Stripe's API specification.

Prints the counts (cases, steps, operations by kind and outcome, webhook deliveries and duplicates,
invariant checks, faults, validated calls, failures, elapsed time) and writes them to .bench/escrow.json;
each process's log is in .bench/escrow-worker<i>.log. Exits 1 when a case failed (the log has Hypothesis's
minimal failing history and the seed to replay it).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.env import env  # noqa: E402 -- the project's defaults (scripts/defaults.env), no Django needed

TEST = (
    "tests/escrow/test_escrow_properties.py"
    "::test_random_histories_keep_the_ledger_balanced_and_equal_to_the_gateway"
)
BENCH = ROOT / ".bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000, help="generated histories in all (10,000)")
    parser.add_argument("--workers", type=int, default=2, help="pytest processes side by side (2)")
    parser.add_argument("--seed", type=int, default=20_505, help="Hypothesis seed of the first process")
    parser.add_argument("--max-steps", type=int, default=12, help="steps per history at most (12)")
    parser.add_argument(
        "--validate-every", type=int, default=20, help="every n-th case is validated by stripe-mock (20)"
    )
    parser.add_argument("--http-share", type=float, default=0.5, help="share of signed HTTP deliveries (0.5)")
    parser.add_argument("--redis-db", type=int, default=15, help="Redis database of the simulator (15)")
    parser.add_argument("--output", type=Path, default=BENCH / "escrow.json")
    return parser.parse_args()


def worker_env(args: argparse.Namespace, i: int, cases: int) -> dict[str, str]:
    database = urlsplit(env("DATABASE_URL"))
    redis = urlsplit(env("REDIS_URL"))
    return dict(os.environ) | {
        "DATABASE_URL": database._replace(path=f"{database.path.rstrip('/')}_proof{i}").geturl(),
        "TEST_CELERY_BROKER_URL": redis._replace(path=f"/{args.redis_db}").geturl(),
        "TEST_ELASTICSEARCH_INDEX_PREFIX": f"proof-escrow-{i}",
        "ESCROW_HYPOTHESIS_PROFILE": "escrow-proof",
        "ESCROW_PROOF_CASES": str(cases),
        "ESCROW_PROOF_MAX_STEPS": str(args.max_steps),
        "ESCROW_PROOF_VALIDATE_EVERY": str(args.validate_every),
        "ESCROW_PROOF_HTTP_SHARE": str(args.http_share),
        "ESCROW_PROOF_STATS": str(BENCH / f"escrow-worker{i}.json"),
    }


def run(args: argparse.Namespace) -> tuple[list[int], Counter[str], float]:
    BENCH.mkdir(exist_ok=True)
    shares = [
        args.cases // args.workers + (1 if i < args.cases % args.workers else 0) for i in range(args.workers)
    ]
    started = time.monotonic()
    counts: Counter[str] = Counter()
    processes = []
    for i, cases in enumerate(shares):
        (BENCH / f"escrow-worker{i}.json").unlink(missing_ok=True)
        log = (BENCH / f"escrow-worker{i}.log").open("wb")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--create-db",
            "-q",
            "-x",
            f"--hypothesis-seed={args.seed + i}",
            TEST,
        ]
        processes.append(
            # This interpreter running pytest on our own test: no untrusted input.
            (subprocess.Popen(command, cwd=ROOT, env=worker_env(args, i, cases), stdout=log, stderr=log), log)  # noqa: S603
        )
    codes = []
    for process, log in processes:
        codes.append(process.wait())
        log.close()
    elapsed = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    counts["cpu_ms_of_processes"] = round((usage.ru_utime + usage.ru_stime) * 1000)
    for i in range(args.workers):
        path = BENCH / f"escrow-worker{i}.json"
        if path.exists():
            counts.update(json.loads(path.read_text()))
    return codes, counts, elapsed


def group(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}


def summary(
    args: argparse.Namespace, codes: list[int], counts: Counter[str], elapsed: float
) -> dict[str, Any]:
    steps: dict[str, dict[str, Any]] = {}
    for key, n in group(counts, "step.").items():
        name, _, outcome = key.partition(".")
        entry = steps.setdefault(name, {"ok": 0, "refused": {}, "other": {}})
        if outcome == "ok":
            entry["ok"] += n
        elif outcome.startswith("refused."):
            entry["refused"][outcome.removeprefix("refused.")] = n
        else:
            entry["other"][outcome] = n
    return {
        "passed": all(code == 0 for code in codes) and counts["failures"] == 0,
        "cases": counts["cases"],
        "cases_abandoned_by_hypothesis": counts["cases_abandoned_by_hypothesis"],
        "steps": counts["steps"],
        "milestones": counts["milestones"],
        "invariant_checks": counts["invariant_checks"],
        "final_checks": counts["final_checks"],
        "failures": counts["failures"] + sum(1 for code in codes if code != 0),
        "elapsed_s": round(elapsed, 1),
        # CPU time of the pytest processes (PostgreSQL's and Redis's own are not in it): on a machine busy
        # with other work, elapsed_s grows while this stays put.
        "cpu_s_of_processes": round(counts["cpu_ms_of_processes"] / 1000, 1),
        "cases_per_s": round(counts["cases"] / elapsed, 2) if elapsed else 0,
        "operations": steps,
        "webhook_deliveries": {
            "total": counts["delivery.http"] + counts["delivery.direct_handler"],
            "http_signed": counts["delivery.http"],
            "direct_handler": counts["delivery.direct_handler"],
            "duplicates": counts["delivery.duplicate"],
            "events_emitted": counts["events.emitted"],
        },
        "after_commit_hooks": group(counts, "hooks."),
        "faults_injected": group(counts, "fault."),
        "sweep": group(counts, "sweep."),
        "reconciliation_drifts": group(counts, "reconcile.drift.") | group(counts, "finish.drift."),
        "final": group(counts, "final."),
        "stripe_mock": {
            "cases_validated": counts["cases_validated_by_stripe_mock"],
            "calls_validated": sum(group(counts, "validated_calls.").values()),
            "by_method": group(counts, "validated_calls."),
        },
        "shape": {
            "currency": group(counts, "currency."),
            "brokers": group(counts, "brokers."),
        },
        "time_ms_by_part": group(counts, "ms."),
        "config": {
            "requested_cases": args.cases,
            "workers": args.workers,
            "seeds": [args.seed + i for i in range(args.workers)],
            "max_steps": args.max_steps,
            "validate_every": args.validate_every,
            "http_share": args.http_share,
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}",
        },
        "worker_exit_codes": codes,
    }


def show(result: dict[str, Any]) -> None:
    d = result["webhook_deliveries"]
    mock = result["stripe_mock"]
    lines = [
        f"escrow proof: {'PASSED' if result['passed'] else 'FAILED'} in {result['elapsed_s']} s "
        f"({result['cases_per_s']} cases/s, {result['config']['workers']} processes, "
        f"seeds {result['config']['seeds']}; their CPU time {result['cpu_s_of_processes']} s)",
        f"  cases              {result['cases']:>9,}   "
        f"(+ {result['cases_abandoned_by_hypothesis']:,} cut short by Hypothesis, not counted)",
        f"  milestones         {result['milestones']:>9,}",
        f"  steps              {result['steps']:>9,}",
        f"  invariant checks   {result['invariant_checks']:>9,}   (after every step)",
        f"  final checks       {result['final_checks']:>9,}   "
        "(ledger == gateway after all events, the sweep and repair)",
        f"  failures           {result['failures']:>9,}",
        f"  webhook deliveries {d['total']:>9,}   ({d['http_signed']:,} signed over HTTP, "
        f"{d['direct_handler']:,} by direct handler call; {d['duplicates']:,} duplicates; "
        f"{d['events_emitted']:,} events emitted)",
        f"  stripe-mock        {mock['calls_validated']:>9,}   "
        f"calls validated in {mock['cases_validated']:,} cases",
        "  operations (done / refused by code):",
    ]
    for name, entry in sorted(result["operations"].items()):
        refused = ", ".join(f"{code} {n:,}" for code, n in sorted(entry["refused"].items()))
        other = ", ".join(f"{k} {n:,}" for k, n in sorted(entry["other"].items()))
        detail = "; ".join(part for part in (refused and f"refused: {refused}", other) if part)
        lines.append(f"    {name:<20} {entry['ok']:>7,}   {detail}")
    lines.append(
        "  faults injected:   " + ", ".join(f"{k} {n:,}" for k, n in result["faults_injected"].items())
    )
    lines.append(
        "  after-commit hooks: " + ", ".join(f"{k} {n:,}" for k, n in result["after_commit_hooks"].items())
    )
    lines.append("  final: " + ", ".join(f"{k} {n:,}" for k, n in result["final"].items()))
    print("\n".join(lines))


def main() -> int:
    args = parse_args()
    if args.cases < 1 or args.workers < 1:
        raise SystemExit("--cases and --workers must be positive")
    codes, counts, elapsed = run(args)
    result = summary(args, codes, counts, elapsed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    show(result)
    print(f"wrote {args.output}")
    if not result["passed"]:
        for i, code in enumerate(codes):
            if code != 0:
                print(f"process {i} exited {code}: see {BENCH / f'escrow-worker{i}.log'}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
