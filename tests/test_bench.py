"""`python3 -m scoms bench A B`: each benchmark in its own process, on a database only it prepared.

The stand-in benchmarks (tests/benchprobe) only set Django up and report their process and
database, so these tests run no workload. Their databases are named after the test database.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench.__main__ import split_arguments
from tests.conftest import ROOT, child_env

pytestmark = pytest.mark.django_db


def run_bench(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, env=child_env(DATABASE_URL=database_url, **env),
        capture_output=True, text=True, timeout=120,
    )


def probe_lines(output: str) -> dict[str, dict[str, str]]:
    lines = [line.split() for line in output.splitlines() if line.startswith("PROBE ")]
    return {words[1]: dict(word.split("=", 1) for word in words[2:]) for words in lines}


@pytest.fixture
def probe_databases(test_database_url: str) -> Iterator[dict[str, str]]:
    """URLs of the stand-ins' databases (`<test database>_probe_one`, …), dropped afterwards."""
    import psycopg
    from psycopg import sql

    from bench._util import bench_database_url, psycopg_conninfo

    urls = {}
    for name in ("probe_one", "probe_two"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DATABASE_URL", test_database_url)
            patch.delenv("BENCH_DATABASE_URL", raising=False)
            urls[name] = bench_database_url(name)
    yield urls
    for url in urls.values():
        info = psycopg_conninfo(url)
        with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(info["dbname"])))


def test_bench_arguments_keep_option_values_apart_from_benchmark_names():
    names, options, unknown = split_arguments(["forecast", "--series", "200", "hot_sku", "--keep", "--rounds=1"])
    assert names == ["forecast", "hot_sku"]
    assert options == ["--series", "200", "--keep", "--rounds=1"]
    assert unknown == []
    assert split_arguments(["order_intak"])[2] == ["order_intak"]


def test_several_benchmarks_run_in_their_own_processes_on_their_own_databases(test_database_url, probe_databases):
    # when two benchmarks are named in one invocation
    result = run_bench("tests.benchprobe.one", "tests.benchprobe.two", database_url=test_database_url)
    # then each ran in a process of its own, on its own database
    assert result.returncode == 0, result.stderr
    probes = probe_lines(result.stdout)
    assert set(probes) == {"probe_one", "probe_two"}
    assert probes["probe_one"]["pid"] != probes["probe_two"]["pid"]
    test_database = test_database_url.rsplit("/", 1)[1]
    assert probes["probe_one"]["database"] == f"{test_database}_probe_one"
    assert probes["probe_two"]["database"] == f"{test_database}_probe_two"


def test_a_benchmark_runs_again_on_the_database_it_prepared(test_database_url, probe_databases):
    assert run_bench("tests.benchprobe.one", database_url=test_database_url).returncode == 0
    # when it runs a second time
    again = run_bench("tests.benchprobe.one", database_url=test_database_url)
    # then its own mark lets it in
    assert again.returncode == 0, again.stderr
    assert "probe_one" in probe_lines(again.stdout)


def test_a_benchmark_refuses_a_database_it_did_not_prepare(test_database_url, probe_databases):
    from bench._util import ensure_database

    # given probe_one's database exists, made by someone else (no mark)
    ensure_database(probe_databases["probe_one"])
    # when probe_one runs
    result = run_bench("tests.benchprobe.one", database_url=test_database_url)
    # then it refuses, saying why and what to do, before touching it
    assert result.returncode == 3
    assert "refusing to run probe_one" in result.stderr
    assert "no mark" in result.stderr
    assert "dropdb" in result.stderr
    assert "PROBE" not in result.stdout


def test_a_benchmark_refuses_another_benchmarks_database(test_database_url, probe_databases):
    # given probe_two prepared its database
    assert run_bench("tests.benchprobe.two", database_url=test_database_url).returncode == 0
    # when probe_one is pointed at that database
    result = run_bench(
        "tests.benchprobe.one", database_url=test_database_url, BENCH_DATABASE_URL=probe_databases["probe_two"]
    )
    # then it refuses, naming the owner; with BENCH_CLAIM_DATABASE=1 it takes the database over
    assert result.returncode == 3
    assert "prepared by the benchmark 'probe_two'" in result.stderr
    claimed = run_bench(
        "tests.benchprobe.one", database_url=test_database_url, BENCH_DATABASE_URL=probe_databases["probe_two"],
        BENCH_CLAIM_DATABASE="1",
    )
    assert claimed.returncode == 0, claimed.stderr
    assert run_bench("tests.benchprobe.two", database_url=test_database_url).returncode == 3
