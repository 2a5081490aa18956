"""Web app budget benchmark (`make bench-web`): initial JavaScript (gzip) and, on the search page, the time
from submitting a query to the results painted over the API call's own time, in headless Chromium.

    make bench-web                                    # services up, then this script
    make bench-web ARGS="--quick"                     # 5 queries x 2 runs
    .venv/bin/python scripts/bench_web.py --trace     # plus a traced round: where the paint time goes

Flags (defaults in brackets):
  --queries N [20]     queries of QUERIES (half Korean, half English, alternating), each --runs times [3]
                       after one warm-up round
  --quick              5 queries x 2 runs (flags given explicitly win)
  --keep-server        leave the bench server running at the end (its URL and pid are printed)
  --no-build           measure frontend/dist as it is (skips scripts/build_web.sh)
  --encode-all         encode the passages of every index (patents, demands too; about half an hour on
                       2 busy cores the first time), not only of the listings the search page reads
  --trace              one more round under Chromium's tracer (the Performance panel's categories), into
                       <output>-trace.json, summarised: main-thread time per phase of a search and activity
  --output PATH [.bench/web.json]
One run at a time: a second one exits at once (a PostgreSQL advisory lock on the bench database).

One run, in this order:

1. `bash scripts/build_web.sh` (a no-op when nothing changed) builds frontend/dist.
2. Initial JavaScript, two ways. Static: the module scripts and `<link rel="modulepreload">` files that
   dist/index.html names. Cold loads: every .js the browser fetched for "/" and for "/search" in a fresh
   browser context (no cache) until the network is idle (Resource Timing, with the response events as a
   cross-check). Each file is gzipped here at level 9; kB = 1,000 bytes. initial_js_kb_gzip is the larger
   of the static set and the cold "/search" load.
3. The bench database (BENCH_WEB_DATABASE_URL, default `ipmarket_bench_web` on the demo's server; refused
   without "bench" in its name) is created, migrated and loaded like the demo (scripts/load_demo_data.sh:
   `import_patents` of both files in ../shared/data, `generate_demo_data`), with the search indices under
   the prefix `bench-web`. Vectors and analysed terms the demo database already holds are copied into the
   bench's caches (the demo database is only read); passages of the listings (the index the search page
   reads) still without a vector are encoded here, synchronously (what the embeddings worker does for the
   demo), before `matching.indexing.rebuild`; patents and demands take the vectors the caches have, like
   the demo's (--encode-all encodes theirs too). Nothing reaches the demo's Celery: the bench's Redis is
   DB 14 (BENCH_WEB_REDIS_URL: cache, broker, channel layer; payment simulator namespace `bench-web`,
   escrow files in .bench/web-vault) and this process drops every task it would queue. Skipped when the
   rows are there and every index agrees with PostgreSQL (the listings with all their vectors).
4. One uvicorn worker serves backend.asgi (DEBUG off) on a free port; its log: .bench/web-server.log.
5. Chromium (Debian's, Python Playwright) opens /search (locale en-US). Each round reloads the page (an
   empty urql cache: every measured search goes to the network) and submits every query once: fill the box
   (accessible name "Search" in the form with role search), click "Search". The page marks
   `search-submitted` at submit and `search-painted` in a requestAnimationFrame after it has committed
   the results of that request. API time: the Resource Timing entry of that search's GraphQL request
   (operation SearchListings, from the GET's URL or matched with the POST bodies seen), responseEnd -
   startTime. Per run: ratio = paint / API, and paint - API. A MutationObserver on the results list
   (`[data-testid="search-results"]`) times the frame after the list's last change as a cross-check, and
   stands in for the marks should the page lose them. Round 1 is the warm-up (server caches, query
   vectors); the rest are measured. search_paint_over_api is the median ratio.
6. A table on stdout and .bench/web.json. The exit status is 0 even when goals are missed.
"""

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_db import ensure_database, exclusive, refuse_unless_bench, with_path  # noqa: E402

from backend.env import env  # noqa: E402 (needs the path above; imports no Django)

BENCH_DIR = ROOT / ".bench"
DIST = ROOT / "frontend" / "dist"
DATA_DIR = Path(os.environ.get("IPMARKET_DATA_DIR", ROOT.parent / "shared" / "data"))
DATA_FILES = (
    ("kipris-csv", "kr_university_patents_inu.csv"),
    ("nasa-csv", "us_nasa_licensable_patents_2014.csv"),
)
SERVER_LOG = BENCH_DIR / "web-server.log"
STATE_FILE = BENCH_DIR / "web-state.json"
SECRETS_FILE = BENCH_DIR / "web-secrets.json"
VAULT = BENCH_DIR / "web-vault"
DATABASE = "ipmarket_bench_web"
INDEX_PREFIX = "bench-web"
REDIS_DB = 14
LOCK_KEY = 0x62656E6377  # pg advisory lock: one run at a time
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OPERATION = "SearchListings"
RUN_TIMEOUT_MS = 30_000
KB = 1000
GOALS = {"initial_js_kb_gzip": ("<=", 300.0), "search_paint_over_api": ("<=", 1.5)}
QUICK = {"queries": 5, "runs": 2}
SEARCHED = ("listings",)  # the indices searchListings reads

# Words of the real patent titles (KIPRIS and NASA files), alternating Korean and English.
QUERIES = (
    "배터리",
    "battery",
    "그래핀",
    "sensor",
    "센서",
    "composite",
    "반도체",
    "antenna",
    "영상",
    "imaging",
    "안테나",
    "fuel cell",
    "태양 전지",
    "optical fiber",
    "이차전지",
    "thruster",
    "탄소나노튜브",
    "display system",
    "광센서",
    "tracking",
)

# Trace categories: what Chromium's Performance panel records (scripting, rendering, painting, marks).
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink.user_timing",
    "v8.execute",
    "loading",
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment ---------------------------------------------------------------------------------------


def _secrets() -> dict[str, str]:
    """Throw-away secrets of the bench (DEBUG is off, so settings want them), kept so that the escrow data
    generated into the bench database stays readable from one run to the next."""
    if SECRETS_FILE.exists():
        known: dict[str, str] = json.loads(SECRETS_FILE.read_text())
    else:
        known = {
            "SECRET_KEY": secrets.token_urlsafe(40),
            "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
            "ESCROW_DEV_KEK": base64_key(),
            "ESCROW_SIGNING_KEY": base64_key(),
        }
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        SECRETS_FILE.write_text(json.dumps(known, indent=1) + "\n")
        SECRETS_FILE.chmod(0o600)
    return known


def base64_key() -> str:
    import base64

    return base64.b64encode(os.urandom(32)).decode()


def configure() -> dict[str, str]:
    """The settings of this process and of the server (set before django.setup); returns them."""
    redis_url = os.environ.get("BENCH_WEB_REDIS_URL") or with_path(env("REDIS_URL"), f"/{REDIS_DB}")
    values = {
        "DATABASE_URL": os.environ.get("BENCH_WEB_DATABASE_URL")
        or with_path(env("DATABASE_URL"), f"/{DATABASE}"),
        "ELASTICSEARCH_INDEX_PREFIX": INDEX_PREFIX,
        # Cache, broker, channel layer and the payment simulator away from the demo's Redis DB and worker.
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CHANNELS_PREFIX": "ipmarket-bench-web:asgi",
        "REALTIME_REDIS_PREFIX": "ipmarket-bench-web:rt",
        "ESCROW_SIMULATOR_NAMESPACE": "bench-web",
        "ESCROW_STORAGE_ROOT": str(VAULT),
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DEBUG": "0",  # as deployed: no SQL log per request, no autorefresh of static files
        "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
    }
    refuse_unless_bench(values["DATABASE_URL"])
    for key, value in _secrets().items():
        values[key] = os.environ.get(key) or value
    os.environ.update(values)
    return values


# --- initial JavaScript --------------------------------------------------------------------------------


def build() -> dict[str, Any]:
    log("building the web app (scripts/build_web.sh; a no-op when nothing changed)")
    started = time.perf_counter()
    done = subprocess.run(["bash", str(ROOT / "scripts" / "build_web.sh")], cwd=ROOT, check=False)  # noqa: S603, S607
    if done.returncode:
        sys.exit(f"scripts/build_web.sh failed ({done.returncode}); nothing measured")
    stamp = DIST / ".built"
    return {
        "ran": True,
        "seconds": round(time.perf_counter() - started, 1),
        "stamp": stamp.read_text().strip() if stamp.exists() else None,
    }


class _EntryScripts(HTMLParser):
    """The module scripts and modulepreload links of index.html, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("type") == "module" and a.get("src"):
            self.files.append(str(a["src"]))
        elif tag == "link" and a.get("rel") == "modulepreload" and a.get("href"):
            self.files.append(str(a["href"]))


def file_sizes(paths: Sequence[str], transfer: dict[str, int] | None = None) -> dict[str, Any]:
    """Raw and gzip -9 bytes of each asset (URL paths under dist/), and their totals in kB."""
    files = []
    for path in dict.fromkeys(paths):  # unique, in order
        local = DIST / path.lstrip("/")
        row: dict[str, Any] = {"file": path}
        if local.is_file():
            data = local.read_bytes()
            row |= {"raw_bytes": len(data), "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0))}
        else:  # not in dist (should not happen): count what came over the wire
            row |= {"raw_bytes": None, "gzip_bytes": (transfer or {}).get(path), "missing_from_dist": True}
        if transfer is not None:
            row["transferred_bytes"] = transfer.get(path)
        files.append(row)
    return {
        "files": files,
        "count": len(files),
        "raw_kb": round(sum(f["raw_bytes"] or 0 for f in files) / KB, 1),
        "gzip_kb": round(sum(f["gzip_bytes"] or 0 for f in files) / KB, 1),
    }


def static_initial_js() -> dict[str, Any]:
    index = DIST / "index.html"
    if not index.is_file():
        sys.exit(f"{index} is missing: the build did not produce the web app")
    parser = _EntryScripts()
    parser.feed(index.read_text())
    return file_sizes(parser.files)


RESOURCES_JS = """() => performance.getEntriesByType("resource").map(e => ({
  name: e.name, initiator: e.initiatorType, start: e.startTime, end: e.responseEnd,
  encoded: e.encodedBodySize, transfer: e.transferSize}))"""


def cold_load(browser: Any, base: str, route: str) -> dict[str, Any]:
    """Every .js the browser fetches to show `route` in a fresh context (empty cache), until the network
    has been idle for 500 ms."""
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        seen: list[str] = []
        page.on("response", lambda r: seen.append(urlsplit(r.url).path))
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(base + route, wait_until="networkidle")
        page.locator("h1").first.wait_for(state="visible")
        seconds = time.perf_counter() - started
        entries = page.evaluate(RESOURCES_JS)
        title = page.locator("h1").first.inner_text()
    finally:
        context.close()
    scripts = [e for e in entries if urlsplit(e["name"]).path.endswith(".js")]
    paths = [urlsplit(e["name"]).path for e in scripts]
    transfer = {urlsplit(e["name"]).path: int(e["encoded"]) for e in scripts}
    extra = sorted({p for p in seen if p.endswith(".js")} - set(paths))  # seen by Playwright, not by RT
    return file_sizes(paths + extra, transfer) | {
        "route": route,
        "h1": title,
        "seconds_to_network_idle": round(seconds, 2),
        "only_in_response_events": extra,
        "console_errors": errors[:10],
    }


# --- the bench database and indices ----------------------------------------------------------------------


def data_fingerprint() -> str:
    digest = hashlib.sha256()
    for _fmt, name in DATA_FILES:
        digest.update((DATA_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def no_celery() -> Iterator[Counter[str]]:
    """Tasks the data loading would queue (index drains, encodings, e-mails) are counted and dropped: this
    process indexes what it needs itself, and no worker serves the bench's database."""
    from celery.app.task import Task

    dropped: Counter[str] = Counter()

    def drop(self: Any, *args: Any, **kwargs: Any) -> None:
        dropped[self.name] += 1

    with mock.patch.object(Task, "apply_async", drop):
        yield dropped


def copy_caches(source_url: str) -> dict[str, int]:
    """The demo database's vectors and analysed terms (current model and analyzer versions) into the
    bench's caches, where missing; the demo database is only read."""
    import psycopg

    from matching.analysis import ANALYZER_VERSION
    from matching.embeddings import encoder
    from matching.models import AnalysedText, TextVector

    enc = encoder()
    copied = {"vectors": 0, "terms": 0}
    if urlsplit(source_url).path == urlsplit(os.environ["DATABASE_URL"]).path:
        return copied
    have_v = set(
        TextVector.objects.filter(model_version=enc.model_version).values_list("text_hash", flat=True)
    )
    have_t = set(
        AnalysedText.objects.filter(analyzer_version=ANALYZER_VERSION).values_list("text_hash", flat=True)
    )
    try:
        with psycopg.connect(source_url) as conn:
            vectors = conn.execute(
                "select text_hash, vector from matching_textvector"
                " where model_version = %s and dimensions = %s",
                (enc.model_version, enc.dimensions),
            ).fetchall()
            terms = conn.execute(
                "select text_hash, terms from matching_analysedtext where analyzer_version = %s",
                (ANALYZER_VERSION,),
            ).fetchall()
    except psycopg.Error as error:
        log(f"could not read the demo database's caches: {error}")
        return copied
    new_v = [
        TextVector(model_version=enc.model_version, text_hash=h, dimensions=enc.dimensions, vector=bytes(v))
        for h, v in vectors
        if h not in have_v
    ]
    new_t = [
        AnalysedText(analyzer_version=ANALYZER_VERSION, text_hash=h, terms=t)
        for h, t in terms
        if h not in have_t
    ]
    TextVector.objects.bulk_create(new_v, batch_size=1000, ignore_conflicts=True)
    AnalysedText.objects.bulk_create(new_t, batch_size=1000, ignore_conflicts=True)
    copied["vectors"], copied["terms"] = len(new_v), len(new_t)
    return copied


def index_reports(need_vectors: Sequence[str]) -> dict[str, Any]:
    """Per index: consistent with PostgreSQL (ids, counts, mapping), and for the indices in need_vectors
    every document with its vector."""
    from matching import indexing
    from matching.indices import ALL

    reports: dict[str, Any] = {}
    for ref in ALL:
        try:
            report = indexing.check(ref)
        except Exception as error:  # no alias yet (first run), or the engine is down: rebuild tells which
            reports[ref.name] = {"current": False, "error": str(error)[:200]}
            continue
        reports[ref.name] = {
            "current": report.consistent and (report.without_vector == 0 or ref.name not in need_vectors),
            "database": report.database,
            "engine": report.engine,
            "without_vector": report.without_vector,
        }
    return reports


def prepare(source_url: str, encode_all: bool) -> dict[str, Any]:
    """Steps of load_demo_data.sh into the bench database, then the indices; skips what is current.

    Every passage of the indices the search page reads (SEARCHED) gets its vector, encoded here when no
    cache has it; the other indices take the vectors the caches hold (as the demo's, whose embeddings
    worker fills them over time), unless encode_all."""
    import django

    django.setup()
    from django.core.management import call_command

    from marketplace.demo.generator import already_generated
    from marketplace.models import Listing, Patent
    from matching import indexing
    from matching.documents import BUILDERS
    from matching.embeddings import store_vectors
    from matching.indices import ALL
    from matching.models import IndexOutbox

    started = time.perf_counter()
    info: dict[str, Any] = {}
    log("migrating the bench database")
    call_command("migrate", verbosity=0, interactive=False)
    state: dict[str, Any] = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}
    fingerprint = data_fingerprint()
    loaded = False
    with no_celery() as dropped:
        if state.get("data") != fingerprint or state.get("patents") != Patent.objects.count():
            for fmt, name in DATA_FILES:
                log(f"importing {name}")
                call_command(
                    "import_patents", str(DATA_DIR / name), format=fmt, no_progress=True, stdout=StringIO()
                )
            loaded = True
        if not already_generated():
            log("generating the demo data (generate_demo_data)")
            call_command("generate_demo_data", stdout=StringIO())
            loaded = True
    if loaded:
        IndexOutbox.objects.all().delete()  # the rebuild below covers every change
        state = {"data": fingerprint, "patents": Patent.objects.count()}
        STATE_FILE.write_text(json.dumps(state) + "\n")
    need_vectors = [ref.name for ref in ALL] if encode_all else list(SEARCHED)
    reports = index_reports(need_vectors)
    stale = [ref for ref in ALL if not reports[ref.name]["current"]]
    if stale:
        info["caches_copied"] = copy_caches(source_url)
        info["rebuilt"] = {}
        for ref in stale:
            ids = indexing.source_ids(ref)
            missing: list[str] = []
            if ref.name in need_vectors:
                for start in range(0, len(ids), 500):
                    missing += BUILDERS[ref.name](ids[start : start + 500]).missing_passages
            if missing:
                log(f"{ref.name}: encoding {len(missing)} passages without a cached vector")
            encode_started = time.perf_counter()
            encoded = store_vectors(missing, "passage") if missing else 0
            encode_seconds = time.perf_counter() - encode_started
            with no_celery() as dropped_here:  # nothing is scheduled with schedule_missing off; made sure
                stats = indexing.rebuild(ref, schedule_missing=False)
            dropped.update(dropped_here)
            log(f"{ref.name}: {stats.documents} documents indexed, {stats.missing_vectors} without a vector")
            info["rebuilt"][ref.name] = {
                "documents": stats.documents,
                "encoded": encoded,
                "encode_seconds": round(encode_seconds, 1),
                "without_vector": stats.missing_vectors,
            }
        reports = index_reports(need_vectors)
    else:
        log("bench database and indices are current: nothing to rebuild")
    info["tasks_dropped"] = dict(dropped)
    info["indices"] = reports
    info["patents"] = Patent.objects.count()
    info["listings_searchable"] = reports.get("listings", {}).get("database")
    info["listings"] = Listing.objects.count()
    info["seconds"] = round(time.perf_counter() - started, 1)
    return info


# --- the server ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(settings: dict[str, str]) -> Server:
    port = free_port()
    server_env = dict(os.environ) | settings
    command = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        "backend.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with SERVER_LOG.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=server_env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    server = Server(process, port)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}; see {SERVER_LOG}")
        if _answers(server.base + "/search"):
            return server
        time.sleep(0.3)
    stop_server(server)
    sys.exit(f"the server did not answer on port {port} within 120 s; see {SERVER_LOG}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our own http URL)
            return bool(answer.status == 200)
    except OSError:
        return False


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# --- the search page -----------------------------------------------------------------------------------

# Before each submit: empty the timeline and watch the results list: the time of its last change, of the
# animation frame after it and of a task posted from that frame (run once the frame is produced). A
# cross-check of the page's marks, and the measure should the page lose them.
ARM_JS = """() => {
  performance.clearMarks(); performance.clearMeasures(); performance.clearResourceTimings();
  const w = window.__bench = {submitAt: null, domAt: null, frameAt: null, afterFrameAt: null};
  window.__benchObserver?.disconnect();
  const list = document.querySelector('[data-testid="search-results"]');
  if (list) {
    window.__benchObserver = new MutationObserver(() => {
      if (w.submitAt === null) return;
      const at = performance.now();
      w.domAt = at;
      requestAnimationFrame(() => {
        if (w.domAt !== at) return;
        w.frameAt = performance.now();
        // A task posted from the frame callback runs once that frame has been produced.
        const channel = new MessageChannel();
        channel.port1.onmessage = () => { if (w.domAt === at) w.afterFrameAt = performance.now(); };
        channel.port2.postMessage(0);
      });
    });
    window.__benchObserver.observe(list, {childList: true, subtree: true, characterData: true});
  }
  document.querySelector('form[role="search"]').addEventListener(
    "submit", () => { w.submitAt = performance.now(); }, {capture: true, once: true});
}"""

COLLECT_JS = """() => {
  const mark = (n) => {
    const e = performance.getEntriesByName(n, "mark");
    return e.length ? e[e.length - 1].startTime : null;
  };
  return {
    submitted: mark("search-submitted"),
    painted: mark("search-painted"),
    fallback: window.__bench,
    results: document.querySelectorAll('[data-testid="search-result"]').length,
    graphql: performance.getEntriesByType("resource").filter((e) => e.name.includes("/graphql")).map((e) => ({
      name: e.name, start: e.startTime, requestStart: e.requestStart, responseStart: e.responseStart,
      end: e.responseEnd, encoded: e.encodedBodySize})),
  };
}"""

PAINTED_JS = """() => performance.getEntriesByName("search-painted", "mark").length > 0"""


def operation_of(url: str, post: str | None) -> str | None:
    """The GraphQL operation name of a request: from the URL of a GET (urql sends queries as GET when the
    URL stays short), or from the JSON body of a POST."""
    names = parse_qs(urlsplit(url).query).get("operationName")
    if names:
        return names[0]
    if post:
        with contextlib.suppress(ValueError, AttributeError):
            return str(json.loads(post).get("operationName"))
    return None


@dataclass
class Run:
    query: str
    round: int
    paint_ms: float
    api_ms: float
    before_request_ms: float  # submit mark -> the request's startTime
    after_response_ms: float  # responseEnd -> painted mark
    results: int
    graphql_requests: int  # GraphQL requests started after the submit (1 expected)
    marks: bool  # the page's marks (False: the fallback observer)
    observer_frame_ms: float | None  # submit -> the frame after the list's last change (our observer)
    observer_after_frame_ms: float | None  # submit -> a task posted from that frame

    @property
    def ratio(self) -> float:
        return self.paint_ms / self.api_ms

    @property
    def diff_ms(self) -> float:
        return self.paint_ms - self.api_ms


class SearchPage:
    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[tuple[str, str | None]] = []  # (url, operation) of GraphQL requests since arming
        self.errors: list[str] = []
        self.page.on("request", self._request)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        form = self.page.get_by_role("search")
        self.box = form.get_by_role("combobox", name="Search", exact=True)
        self.button = form.get_by_role("button", name="Search", exact=True)

    def _request(self, request: Any) -> None:
        if "/graphql" in request.url:
            self.requests.append((request.url, operation_of(request.url, request.post_data)))

    def open(self) -> None:
        """A fresh page: the urql cache is empty, so no search of the round is answered from it."""
        self.page.goto(self.base + "/search", wait_until="networkidle")
        self.box.wait_for(state="visible")
        self.page.evaluate("() => performance.setResourceTimingBufferSize(1000)")

    def search(self, query: str, number: int) -> Run | None:
        page = self.page
        page.evaluate(ARM_JS)
        self.requests.clear()
        self.box.fill(query)
        self.button.click()
        marks = True
        try:
            page.wait_for_function(PAINTED_JS, timeout=RUN_TIMEOUT_MS)
            page.wait_for_timeout(100)  # the observer's frame and task, if the list changed late
        except Exception:  # no marks: fall back to the results list's last change, once the network is idle
            marks = False
            with contextlib.suppress(Exception):
                page.wait_for_load_state("networkidle", timeout=RUN_TIMEOUT_MS)
            page.wait_for_timeout(300)
        data = page.evaluate(COLLECT_JS)
        fallback = data["fallback"] or {}
        submitted = data["submitted"] if marks else fallback.get("submitAt")
        painted = data["painted"] if marks else fallback.get("frameAt")
        if submitted is None or painted is None:
            log(f"  {query!r}: no paint measured (marks {marks}); skipped")
            return None
        after = [e for e in data["graphql"] if e["start"] >= submitted - 0.5]
        entry = self._search_entry(after)
        if entry is None:
            log(f"  {query!r}: no {OPERATION} request found after the submit; skipped")
            return None
        api = entry["end"] - entry["start"]

        def since(at: float | None) -> float | None:
            return at - submitted if at is not None else None

        return Run(
            query=query,
            round=number,
            paint_ms=painted - submitted,
            api_ms=api,
            before_request_ms=entry["start"] - submitted,
            after_response_ms=painted - entry["end"],
            results=int(data["results"]),
            graphql_requests=len(after),
            marks=marks,
            observer_frame_ms=since(fallback.get("frameAt")),
            observer_after_frame_ms=since(fallback.get("afterFrameAt")),
        )

    def _search_entry(self, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The Resource Timing entry of this search's request: by the operation name in its URL (GET), else
        the POSTs in order against the request events seen since arming."""
        for entry in entries:
            if operation_of(entry["name"], None) == OPERATION:
                return entry
        posted = [op for url, op in self.requests if not urlsplit(url).query]
        plain = [e for e in entries if not urlsplit(e["name"]).query]
        for entry, op in zip(plain, posted[-len(plain) :] if plain else [], strict=False):
            if op == OPERATION:
                return entry
        return None

    def close(self) -> None:
        self.context.close()


def run_searches(
    browser: Any, base: str, queries: Sequence[str], runs: int, trace_path: Path | None
) -> tuple[list[Run], dict[str, Any]]:
    """One warm-up round, then `runs` measured rounds, each on a freshly opened page; with a trace path, one
    more round under the tracer (its figures kept apart: tracing slows the page)."""
    page = SearchPage(browser, base)
    measured: list[Run] = []
    info: dict[str, Any] = {"skipped": 0, "warmup_paint_ms": [], "traced_paint_ms": []}
    rounds = runs + 1 + (trace_path is not None)
    try:
        for number in range(rounds):
            page.open()
            tracing = trace_path is not None and number == runs + 1
            if tracing:
                browser.start_tracing(page=page.page, path=str(trace_path), categories=TRACE_CATEGORIES)
            label = "warm-up" if number == 0 else "traced round" if tracing else f"round {number}/{runs}"
            log(f"{label}: {len(queries)} searches")
            for query in queries:
                run = page.search(query, number)
                page.page.wait_for_timeout(250)  # let the page settle (late effects, the prefetch's cleanup)
                if run is None:
                    info["skipped"] += 1
                elif number == 0:
                    info["warmup_paint_ms"].append(round(run.paint_ms, 1))
                elif tracing:
                    info["traced_paint_ms"].append(round(run.paint_ms, 1))
                else:
                    measured.append(run)
            if tracing:
                browser.stop_tracing()
        info["console_errors"] = page.errors[:10]
    finally:
        page.close()
    return measured, info


# --- figures -------------------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(values), q)), 3) if values else None


def spread(values: Sequence[float]) -> dict[str, Any]:
    return {"p50": pct(values, 50), "p90": pct(values, 90), "min": pct(values, 0), "max": pct(values, 100)}


def search_figures(runs: Sequence[Run], queries: Sequence[str]) -> dict[str, Any]:
    per_query = []
    for query in queries:
        mine = [r for r in runs if r.query == query]
        if mine:
            per_query.append(
                {
                    "query": query,
                    "runs": len(mine),
                    "results": mine[-1].results,
                    "paint_ms_p50": round(statistics.median(r.paint_ms for r in mine), 1),
                    "api_ms_p50": round(statistics.median(r.api_ms for r in mine), 1),
                    "ratio_p50": round(statistics.median(r.ratio for r in mine), 3),
                }
            )
    return {
        "runs": len(runs),
        "paint_ms": spread([r.paint_ms for r in runs]),
        "api_ms": spread([r.api_ms for r in runs]),
        "ratio": spread([r.ratio for r in runs]),
        "paint_minus_api_ms": spread([r.diff_ms for r in runs]),
        "submit_to_request_ms": spread([r.before_request_ms for r in runs]),
        "response_to_paint_ms": spread([r.after_response_ms for r in runs]),
        "observer_frame_ms": spread([r.observer_frame_ms for r in runs if r.observer_frame_ms is not None]),
        "observer_after_frame_ms": spread(
            [r.observer_after_frame_ms for r in runs if r.observer_after_frame_ms is not None]
        ),
        "graphql_requests_per_search": dict(Counter(r.graphql_requests for r in runs)),
        "measured_by": sorted({"page marks" if r.marks else "fallback observer" for r in runs}),
        "per_query": per_query,
    }


RENDERING = {
    "UpdateLayoutTree",
    "Layout",
    "PrePaint",
    "HitTest",
    "UpdateLayer",
    "Layerize",
    "IntersectionObserverController::computeIntersections",
}
PAINTING = {"Paint", "Commit", "PaintImage", "Decode Image"}
PHASES = ("submit -> request sent", "waiting for the API", "response -> painted mark")


def _activity(name: str) -> str:
    if name in RENDERING:
        return "rendering"
    if name in PAINTING:
        return "painting"
    if name == "RunTask":
        return "other"
    return "scripting"  # FunctionCall, microtasks, events, frame callbacks, V8 (compile, GC, interrupts)


def _self_times(events: list[dict[str, Any]]) -> list[tuple[float, float, str]]:
    """(start, self time, name) of each complete event of one thread: its duration less its children's."""
    ordered = sorted(events, key=lambda e: (e["ts"], -e["dur"]))
    out: list[list[Any]] = []
    stack: list[tuple[float, int]] = []  # (end, index into out)
    for e in ordered:
        while stack and stack[-1][0] <= e["ts"]:
            stack.pop()
        if stack:
            out[stack[-1][1]][1] -= e["dur"]
        out.append([e["ts"], float(e["dur"]), e["name"]])
        stack.append((e["ts"] + e["dur"], len(out) - 1))
    return [(ts, max(d, 0.0), name) for ts, d, name in out]


def trace_summary(path: Path) -> dict[str, Any]:
    """Where the paint time goes: for each search of the traced round (search-submitted to search-painted),
    three phases (until the request is sent; until it has finished; until the painted mark) and the page's
    main-thread time in each by activity (self times, as the Performance panel's summary), averaged."""
    raw = json.loads(path.read_text())
    events: list[dict[str, Any]] = raw["traceEvents"] if isinstance(raw, dict) else raw
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    marks = sorted(
        (e["ts"], e["name"]) for e in events if e.get("name") in ("search-submitted", "search-painted")
    )
    sent = sorted(
        (e["ts"], e["args"]["data"]["requestId"])
        for e in events
        if e.get("name") == "ResourceSendRequest"
        and f"operationName={OPERATION}" in e["args"]["data"].get("url", "")
    )
    finished = {e["args"]["data"]["requestId"]: e["ts"] for e in events if e.get("name") == "ResourceFinish"}
    windows: list[tuple[float, float, float, float]] = []
    begin: float | None = None
    for ts, name in marks:
        if name == "search-submitted":
            begin = ts
        elif begin is not None:
            request = next(((t, rid) for t, rid in sent if begin <= t <= ts), None)
            if request is not None and request[1] in finished:
                windows.append((begin, request[0], finished[request[1]], ts))
            begin = None
    selfs = _self_times(
        [e for e in events if e.get("ph") == "X" and "dur" in e and (e["pid"], e["tid"]) in main]
    )
    table: dict[str, dict[str, float]] = {phase: defaultdict(float) for phase in PHASES}
    wall: dict[str, float] = defaultdict(float)
    for bounds in windows:
        for i, phase in enumerate(PHASES):
            lo, hi = bounds[i], bounds[i + 1]
            wall[phase] += hi - lo
            for ts, own, name in selfs:
                if lo <= ts < hi:
                    table[phase][_activity(name)] += min(own, hi - ts)
    n = max(len(windows), 1)
    phases = {}
    for phase in PHASES:
        busy = sum(table[phase].values())
        phases[phase] = {
            "wall_ms": round(wall[phase] / n / 1000, 2),
            "main_thread_ms": round(busy / n / 1000, 2),
            **{k: round(v / n / 1000, 2) for k, v in sorted(table[phase].items())},
        }
    return {"searches": len(windows), "mean_per_search": phases}


def machine(browser_version: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "chromium": browser_version,
    }
    with contextlib.suppress(OSError, StopIteration, ValueError, IndexError):
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line
        )
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_gib"] = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1)
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return info


def met(name: str, value: float | None) -> bool | None:
    if value is None:
        return None
    op, goal = GOALS[name]
    return value <= goal if op == "<=" else value >= goal


def print_report(result: dict[str, Any]) -> None:
    js, search = result["initial_js"], result["search"]
    print()
    print(f"{'metric':<56} {'value':>14} {'goal':>8}  met?")

    def ms(figure: dict[str, Any]) -> str:
        return f"{figure['p50']} / {figure['p90']}"

    rows: list[tuple[str, Any, str | None]] = [
        ("initial_js_kb_gzip", result["initial_js_kb_gzip"], "initial_js_kb_gzip"),
        ("  index.html's module script + modulepreloads (kB gz)", js["index_html"]["gzip_kb"], None),
        ("  cold load of /search, all .js fetched (kB gz)", js["cold_search"]["gzip_kb"], None),
        ("  cold load of /search, all .js fetched (kB raw)", js["cold_search"]["raw_kb"], None),
        ("  cold load of /, all .js fetched (kB gz)", js["cold_landing"]["gzip_kb"], None),
        (
            "search_paint_over_api (median of paint / API)",
            result["search_paint_over_api"],
            "search_paint_over_api",
        ),
        ("  ratio p90", search["ratio"]["p90"], None),
        ("  paint ms p50 / p90", ms(search["paint_ms"]), None),
        ("  API ms p50 / p90", ms(search["api_ms"]), None),
        ("  paint - API ms p50 / p90", ms(search["paint_minus_api_ms"]), None),
        ("  submit -> request start ms p50 / p90", ms(search["submit_to_request_ms"]), None),
        ("  response end -> painted mark ms p50 / p90", ms(search["response_to_paint_ms"]), None),
        ("  observer: frame after the list changed ms p50", search["observer_frame_ms"]["p50"], None),
    ]
    for label, value, goal_name in rows:
        goal = verdict = ""
        if goal_name is not None:
            op, target = GOALS[goal_name]
            goal = f"{op} {target:g}"
            verdict = {True: "yes", False: "NO", None: "n/a"}[result["met"][goal_name]]
        print(f"{label:<56} {value!s:>14} {goal:>8}  {verdict}")
    print()
    print(
        f"{result['queries']} queries x {result['runs_per_query']} runs ({search['runs']} measured, "
        f"{result['search_info']['skipped']} skipped); GraphQL requests per search: "
        f"{search['graphql_requests_per_search']}; measured by {', '.join(search['measured_by'])}"
    )
    if result.get("trace_summary"):
        summary = result["trace_summary"]
        print()
        print(f"traced round, {summary['searches']} searches, mean ms per search (page main thread):")
        print(f"{'phase':<28} {'wall':>7} {'busy':>7} {'script':>7} {'render':>7} {'paint':>7} {'other':>7}")
        for phase, row in summary["mean_per_search"].items():
            cells = [
                row.get(k, 0.0)
                for k in ("wall_ms", "main_thread_ms", "scripting", "rendering", "painting", "other")
            ]
            print(f"{phase:<28} " + " ".join(f"{c:>7.1f}" for c in cells))
        print(f"trace: {result['trace']}")
    print(f"written to {result['output']}")


# --- main ----------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=len(QUERIES), help=f"at most {len(QUERIES)}")
    parser.add_argument("--runs", type=int, default=3, help="measured rounds after the warm-up")
    parser.add_argument("--quick", action="store_true", help="5 queries x 2 runs")
    parser.add_argument("--keep-server", action="store_true", help="leave the bench server running")
    parser.add_argument("--no-build", action="store_true", help="measure frontend/dist as it is")
    parser.add_argument(
        "--encode-all", action="store_true", help="vectors for every index, not only listings"
    )
    parser.add_argument("--trace", action="store_true", help="one more round, traced (not measured)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "web.json")
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    args.queries = max(1, min(args.queries, len(QUERIES)))
    return args


def main() -> None:
    args = parse_args()
    source_url = env("DATABASE_URL")  # the demo's database: read only, for its caches
    built = {"ran": False} if args.no_build else build()
    static = static_initial_js()
    settings = configure()
    ensure_database(settings["DATABASE_URL"], log)
    lock = exclusive(settings["DATABASE_URL"], LOCK_KEY, "bench_web")
    world = prepare(source_url, args.encode_all)
    queries = list(QUERIES[: args.queries])
    trace_path = args.output.with_name(args.output.stem + "-trace.json") if args.trace else None
    if trace_path is not None:
        trace_path.unlink(missing_ok=True)
    load_before = os.getloadavg()

    from playwright.sync_api import sync_playwright

    log("starting the server")
    server = start_server(settings)
    log(f"server up at {server.base} (pid {server.process.pid})")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                log("cold loads of / and /search")
                landing = cold_load(browser, server.base, "/")
                search_cold = cold_load(browser, server.base, "/search")
                runs, search_info = run_searches(browser, server.base, queries, args.runs, trace_path)
                version = browser.version
            finally:
                browser.close()
    finally:
        if args.keep_server:
            log(f"server left running at {server.base} (pid {server.process.pid}; stop it with kill)")
        else:
            stop_server(server)

    figures = search_figures(runs, queries)
    by_set = {"index.html": static, "cold /search": search_cold}
    largest = max(by_set, key=lambda k: by_set[k]["gzip_kb"])
    ratio = figures["ratio"]["p50"]
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["scripts/bench_web.py", *sys.argv[1:]]),
        "initial_js_kb_gzip": by_set[largest]["gzip_kb"],
        "initial_js_from": largest,
        "initial_js_files": by_set[largest]["files"],
        "initial_js": {"index_html": static, "cold_landing": landing, "cold_search": search_cold},
        "search_paint_over_api": round(ratio, 3) if ratio is not None else None,
        "search_paint_minus_api_ms_p50": figures["paint_minus_api_ms"]["p50"],
        "search": figures,
        "search_info": search_info,
        "queries": len(queries),
        "query_list": queries,
        "runs_per_query": args.runs,
        "goals": {name: {"op": op, "goal": goal} for name, (op, goal) in GOALS.items()},
        "build": built,
        "world": world,
        "server": {"base": server.base, "pid": server.process.pid, "kept": args.keep_server, "debug": False},
        "machine": machine(version) | {"load_average_before": [round(x, 2) for x in load_before]},
        "kb": "1 kB = 1,000 bytes; gzip level 9 of the files in frontend/dist",
    }
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if trace_path is not None and trace_path.exists():
        result["trace"] = str(trace_path)
        result["trace_summary"] = trace_summary(trace_path)
    result["met"] = {name: met(name, result.get(name)) for name in GOALS}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result["output"] = str(args.output)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print_report(result)
    lock.close()


if __name__ == "__main__":
    main()
