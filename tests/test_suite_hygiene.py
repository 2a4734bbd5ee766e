"""The suite itself, read with ``ast``: every test asserts something of its own, and no test
sleeps where a clock can be injected (breakers take ``clock=``, time-machine moves
Django's clock, ``comments.spam.now`` is a hook) or a condition can be polled
(``tests.faults.wait_for``). A real-time wait stays only where a real process's own
interval or timeout is what is tested, listed below with the reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (file, function) -> why it waits in real time. An entry that no longer sleeps fails too.
SLEEPS_ALLOWED = {
    ("tests/faults.py", "wait_for"): "the poll interval of wait_for itself",
    ("tests/test_cluster.py", "Cluster.wait_for_log"): "polls the log files of the real cluster's processes",
    ("tests/test_cluster.py", "run_cluster"): (
        "polls for cluster.sh to start, then for its process group to go"
    ),
    ("tests/test_cluster.py", "test_a_killed_replica_is_started_again_and_no_request_fails_meanwhile"): (
        "polls a real supervisor restarting a real gunicorn while a load runs, and nginx's 5 s fail_timeout"
    ),
    ("tests/test_faults.py", "test_a_dead_redis_serves_pages_quietly_and_the_traffic_page_shows_a_notice"): (
        "the breaker interval of the real gunicorn workers (other processes: no clock to inject)"
    ),
    ("tests/test_faults.py", "test_a_dead_database_answers_503_with_retry_after"): (
        "the page-cache outage window of the real gunicorn workers (other processes)"
    ),
    (
        "comments/tests/test_tasks.py",
        "test_worker_keeps_failed_mail_and_sends_it_when_the_mail_server_is_back",
    ): "the mail breaker interval of a real Celery worker (another process)",
    ("tests/test_browser_editor.py", "test_the_editor_journey"): (
        "polls the database for the browser's autosave; Playwright's wait keeps its event loop running"
    ),
    ("tests/test_browser_editor_language_and_layout.py", "wait_for_autosave_row"): (
        "polls the database for the browser's autosave; Playwright's wait keeps its event loop running"
    ),
}

# A helper whose name says it asserts. A query-count fixture (django_assert_num_queries)
# checks a cost, not what the test is about: it does not count on its own.
ASSERTING_NAME_PREFIXES = ("assert_", "_assert")  # whoever defines them
HELPER_PREFIXES = ("wait_for", "_wait", "check", "_check", "expect_")  # only the suite's own helpers
ASSERTING_CALLS = {"raises", "fail", "warns", "expect", "deprecated_call"}  # pytest.raises, expect(...)


def suite_files() -> list[Path]:
    folders = [ROOT / "tests", *sorted(ROOT.glob("*/tests"))]
    return sorted({path for folder in folders for path in folder.rglob("*.py")})


def _name(call: ast.Call) -> str:
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function, methods as ``Class.method``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def _suite_helpers(trees: dict[Path, ast.AST]) -> set[str]:
    return {node.name for tree in trees.values() for _, node in _functions(tree)}


def asserts(function: ast.AST, helpers: set[str]) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = _name(node)
            if name in ASSERTING_CALLS or name.startswith(ASSERTING_NAME_PREFIXES):
                return True
            if name in helpers and name.startswith(HELPER_PREFIXES):
                return True
    return False


def silent_tests(trees: dict[Path, ast.AST]) -> list[str]:
    helpers = _suite_helpers(trees)
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {name}"
        for path, tree in trees.items()
        for name, node in _functions(tree)
        if node.name.startswith("test") and not asserts(node, helpers)
    ]


def _own_nodes(function: ast.AST):
    """The nodes of ``function``'s own body: not those of functions or classes inside it."""
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def _sleeps(function: ast.AST, sleep_names: set[str]) -> bool:
    for node in _own_nodes(function):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Attribute):
            if called.attr == "wait_for_timeout":  # Playwright's page.wait_for_timeout
                return True
            if called.attr == "sleep" and isinstance(called.value, ast.Name) and called.value.id == "time":
                return True
        elif isinstance(called, ast.Name) and called.id in sleep_names:
            return True
    return False


def sleeping_functions(trees: dict[Path, ast.AST]) -> set[tuple[str, str]]:
    """(file, function) of every function whose own body sleeps in real time."""
    found = set()
    for path, tree in trees.items():
        sleep_names = {  # from time import sleep [as nap]
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "time"
            for alias in node.names
            if alias.name == "sleep"
        }
        found |= {
            (str(path.relative_to(ROOT)), name)
            for name, node in _functions(tree)
            if _sleeps(node, sleep_names)
        }
    return found


def _parsed() -> dict[Path, ast.AST]:
    return {path: ast.parse(path.read_text(), filename=str(path)) for path in suite_files()}


def test_every_test_asserts_something_of_its_own():
    assert silent_tests(_parsed()) == []


def test_no_test_sleeps_outside_the_list_and_every_listed_one_still_does():
    found = sleeping_functions(_parsed())
    assert sorted(found - set(SLEEPS_ALLOWED)) == [], "inject a clock or poll with tests.faults.wait_for"
    assert sorted(set(SLEEPS_ALLOWED) - found) == [], "no longer sleeps: drop it from SLEEPS_ALLOWED"
    assert all(reason.strip() for reason in SLEEPS_ALLOWED.values())


def test_the_scan_catches_what_it_is_for():
    source = ast.parse(
        "import time\n"
        "from comments.spam import check_stamp\n"
        "def check_page(x):\n    assert x\n"
        "def test_silent():\n    check_stamp('v', client_key='k')\n"  # the code under test: no assertion
        "def test_helped():\n    check_page(1)\n"
        "def test_cheap(django_assert_num_queries):\n    with django_assert_num_queries(0):\n        f()\n"
        "def test_raising():\n    with pytest.raises(ValueError):\n        int('x')\n"
        "class TestThings:\n    def test_napping(self):\n        time.sleep(1)\n        assert True\n"
    )
    trees = {ROOT / "tests" / "example.py": source}
    assert silent_tests(trees) == ["tests/example.py:5 test_silent", "tests/example.py:9 test_cheap"]
    assert sleeping_functions(trees) == {("tests/example.py", "TestThings.test_napping")}
