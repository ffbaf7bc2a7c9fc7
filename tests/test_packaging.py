"""tbmto as a wheel: what the package needs at run time (schema, default study, Snakefile and
rules, report caption) ships as package data, and a non-editable install works away from the
checkout.

The wheel is built from a clean copy of the source tree (no ``build/`` left over from earlier
builds can leak into it, and the checkout is not written to). The install test (slow) puts the
wheel into a fresh ``python -m venv --system-site-packages`` with ``--no-deps``: the
dependencies (numpy, scipy, snakemake, ...) come from the surrounding environment instead of
being downloaded again, while tbmto itself is imported from the venv (checked), so the
editable checkout cannot stand in for the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

RUNTIME_DATA = [
    "tbmto/data/schema.yaml",
    "tbmto/data/default.yaml",
    "tbmto/workflow/Snakefile",
    "tbmto/workflow/report/figure.rst",
] + [f"tbmto/workflow/rules/{r}.smk" for r in ("plan", "potentials", "structures", "transport", "fits", "figures",
                                                  "interfaces")]

_SKIP = shutil.ignore_patterns(".git", "results", "build", "dist", "*.egg-info", "__pycache__", ".snakemake",
                               ".pytest_cache", "shared", "*.whl")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The tbmto wheel built (pip wheel, no dependencies) from a clean copy of the source tree."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=_SKIP)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(root / "dist"),
                          "--quiet"], capture_output=True, text=True, timeout=600, env=_env())
    assert res.returncode == 0, res.stderr[-3000:]
    (whl,) = (root / "dist").glob("tbmto-*.whl")
    return whl


def test_wheel_ships_schema_default_config_and_workflow(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in RUNTIME_DATA:
        assert path in names, path
    with zipfile.ZipFile(wheel) as zf:
        # the shipped files are the checkout's (configs/*.yaml link to the package data)
        for link, target in (("configs/schema.yaml", "tbmto/data/schema.yaml"),
                             ("configs/default.yaml", "tbmto/data/default.yaml")):
            assert zf.read(target) == (REPO / link).read_bytes(), link
        assert zf.read("tbmto/workflow/Snakefile") == (REPO / "tbmto" / "workflow" / "Snakefile").read_bytes()
        entry = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "tbmto = tbmto.cli:main" in entry
    # nothing of the checkout that is not the package: no tests, results, configs or root Snakefile
    assert not [n for n in names if not (n.startswith("tbmto/") or ".dist-info/" in n)]
    assert "tbmto/errors.py" in names and "tbmto/wfm/leads.py" in names


def test_every_rule_file_of_the_checkout_is_package_data(wheel):
    """A rule added to tbmto/workflow/rules/ without a package-data pattern would be missing."""
    names = set(zipfile.ZipFile(wheel).namelist())
    pkg = REPO / "tbmto"
    for path in list((pkg / "workflow").rglob("*")) + list((pkg / "data").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            assert path.relative_to(REPO).as_posix() in names, path


@pytest.mark.slow
def test_installed_wheel_runs_away_from_the_checkout(wheel, tmp_path):
    """pip install of the wheel into a fresh venv; from a directory outside the checkout:
    tbmto --help, tbmto run on the tiny study (dry run: the packaged Snakefile, schema and
    default config are found), the embedded default study's dry run, and the fast CLI/config
    tests against the installed package."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    res = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed", str(wheel)],
                         capture_output=True, text=True, timeout=600, env=_env())
    assert res.returncode == 0, res.stderr[-3000:]
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {**_env(), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}

    def run(*cmd, timeout=300):
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, cwd=away, env=env)

    where = run(str(py), "-c", "import tbmto, tbmto.cli as c, tbmto.config as k; "
                "print(tbmto.__file__); print(c.snakefile_path()); print(k.schema_path())")
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert line.startswith(str(venv)), where.stdout  # the wheel, not the editable checkout
    exe = str(venv / "bin" / "tbmto")
    helped = run(exe, "--help")
    assert helped.returncode == 0 and "run the Snakemake workflow" in helped.stdout
    cfg = away / "tiny.yaml"
    shutil.copy(REPO / "configs" / "tiny.yaml", cfg)
    dry = run(exe, "run", "tiny.yaml", "-n", "--cores", "2")
    assert dry.returncode == 0, dry.stderr[-3000:]
    out = dry.stdout + dry.stderr
    echoed = next(line for line in dry.stderr.splitlines() if line.startswith("+ "))
    assert f"--snakefile {venv}" in echoed  # the packaged Snakefile of the venv's tbmto
    assert "transport" in out and "results/tiny/tables/summary.csv" in out
    assert not (away / "results").exists()
    default = run(exe, "run", "-n")
    assert default.returncode == 0 and "results/default/tables/summary.csv" in default.stdout + default.stderr
    # the fast tests of the command line and the config against the installed package
    # (-P: the checkout is not put on sys.path; the tests import tbmto from the venv)
    tests = run(str(py), "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(REPO),
                "-c", str(REPO / "pyproject.toml"), str(REPO / "tests" / "test_cli.py"),
                str(REPO / "tests" / "test_config.py"), str(REPO / "tests" / "test_errors.py"), timeout=900)
    assert tests.returncode == 0, tests.stdout[-4000:]
