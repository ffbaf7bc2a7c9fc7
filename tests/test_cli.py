"""The ``tbmto`` command line: help of every subcommand, exit status 2 naming bad options,
and the fit/plot subcommands on synthetic transport files."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tbmto.cli import main

SUBCOMMANDS = ["scf", "build", "transport", "mixing", "plan", "fit", "plot", "run"]
REPO = Path(__file__).resolve().parent.parent


def test_console_script_help():
    exe = shutil.which("tbmto")
    cmd = [exe] if exe else [sys.executable, "-m", "tbmto.cli"]
    out = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for sub in SUBCOMMANDS:
        assert sub in out.stdout


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_subcommand_help_exits_zero(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        main([sub, "--help"])
    assert exc.value.code == 0
    assert "usage: tbmto " + sub in capsys.readouterr().out


BAD = [
    (["build", "--layers", "0", "--a", "3.5", "--out", "x.extxyz"], "--layers"),
    (["build", "--layers", "4", "--a", "-3.5", "--out", "x.extxyz"], "--a"),
    (["build", "--layers", "4", "--a", "3.5", "--supercell", "2,x", "--out", "x.extxyz"], "--supercell"),
    (["build", "--layers", "4", "--a", "3.5", "--composition", "Ni=0.8,Fe=0.3", "--out", "x.extxyz"], "--composition"),
    (["build", "--layers", "4", "--a", "3.5", "--composition", "Ni=0.8,Xy=0.2", "--out", "x.extxyz"], "--composition"),
    (["build", "--layers", "4", "--a", "3.5", "--direction", "010", "--out", "x.extxyz"], "--direction"),
    (["build", "--layers", "4", "--a", "3.5", "--lattice", "hcp", "--out", "x.extxyz"], "--lattice"),
    (["build", "--layers", "4", "--a", "3.5", "--delta", "-0.1", "--out", "x.extxyz"], "--delta"),
    (["build", "--layers", "4", "--a", "3.5"], "--out"),
    (["transport", "--structure", "s", "--potentials", "p", "--magnetization", "up", "--out", "t"], "--magnetization"),
    (["transport", "--structure", "s", "--potentials", "p", "--magnetization", "0,0,0", "--out", "t"], "--magnetization"),
    (["transport", "--structure", "s", "--potentials", "p", "--kmesh", "0", "--out", "t"], "--kmesh"),
    (["transport", "--structure", "s", "--potentials", "p", "--out", "t", "--frobnicate"], "--frobnicate"),
    (["scf", "--composition", "Ni=1.5,Fe=-0.5", "--out", "p"], "--composition"),
    (["scf", "--composition", "Ni=0.8,Fe=0.1", "--out", "p"], "sum to 1"),
    (["scf", "--composition", "Xx", "--out", "p"], "unknown element"),
    (["scf", "--composition", "Ni", "--kmesh", "two", "--out", "p"], "--kmesh"),
    (["scf", "--composition", "Ni", "--lattice", "hcp", "--out", "p"], "--lattice"),
    (["scf", "--composition", "Ni", "--alloy-model", "vca", "--out", "p"], "--alloy-model"),
    (["fit", "--out-dir", "t", "--runs", "r.csv", "--method", "magic"], "--method"),
    (["fit", "--out-dir", "t"], "--runs"),
    (["plot", "nonsense", "--tables-dir", "t", "--out", "f"], "kind"),
    (["run", "--cores", "0"], "--cores"),
    (["frobnicate"], "COMMAND"),
]


@pytest.mark.parametrize("argv,option", BAD, ids=[" ".join(a[:1] + [o]) for a, o in BAD])
def test_bad_options_exit_2_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err, err


def test_run_rejects_invalid_config_with_exit_2(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("study: x\nalloys: [{elements: [Ni, Fe], x: [0.2]}]\ngeometry: {lengths: [4, 6]}\n")
    assert main(["run", str(cfg), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "geometry.lengths" in err and "at least 3" in err


THERMAL = {"study": "syn", "seed": 1,
           "thermal": [{"element": "Ni", "lattice_constant": 3.524, "delta_over_a": [0.02]}],
           "geometry": {"supercell": [1, 1], "lengths": [3, 5, 7], "configurations": 2},
           "transport": {"soc": [True]}}


def _plan(tmp_path: Path, config: dict):
    """Write ``config``, run ``tbmto plan`` on it in ``tmp_path``; returns the StudyPlan."""
    import yaml

    from tbmto.config import expand_plan

    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["plan", str(path), "--directory", str(tmp_path)]) == 0
    return expand_plan(config)


def _write_transport(path: Path, L: int, m: str, G: float, T: float, M: float, soc: bool = True):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "format": "tbmto-transport/1",
        "inputs": {"magnetization_label": m, "soc": soc, "soc_form": "exact", "linearisation": "fermi",
                   "kgrid": "shifted"},
        "result": {"G_e2h": G, "area_nm2": 0.0621, "damping_T": T, "moment_muB": M, "slab_layers": L,
                   "n_modes_left": 2.0, "n_modes_right": 2.0, "n_k": 4, "seconds": 0.1},
    }))


def _fit(tmp_path: Path, plan, *extra: str) -> int:
    return main(["fit", "--runs", str(tmp_path / plan.runs_table), *extra,
                 "--out-dir", str(tmp_path / "tables")])


def test_fit_missing_transport_file_exits_4(tmp_path, capsys):
    plan = _plan(tmp_path, THERMAL)
    assert _fit(tmp_path, plan) == 4  # tbmto.errors.EXIT_MISSING_INPUT
    assert "missing input: transport result not found" in capsys.readouterr().err


def test_fit_and_plot_on_synthetic_results(tmp_path, monkeypatch):
    from tbmto.io import read_table
    from tbmto.observables import area_resistance_ohm_m2

    monkeypatch.chdir(tmp_path)  # the plan's paths are relative to the working directory
    plan = _plan(tmp_path, THERMAL)
    rho = {"par": 5.0, "perp": 4.5}  # μΩ·cm
    RA_of_G = area_resistance_ohm_m2(1.0, 0.0621)  # R·A for G = 1 e²/h
    for run in plan.run_records():
        L, c, m = run["L_layers"], run["config"], run["magnetization"]
        RA = 2e-15 + rho[m] * 1e-8 * L * 0.1762e-9 + (c - 0.5) * 1e-17
        _write_transport(Path(run["path"]), L, m, RA_of_G / RA, 0.1 * L + c * 0.01, 0.6 * L)
    assert _fit(tmp_path, plan) == 0
    for name in ("transport", "fits", "summary"):
        assert (tmp_path / "tables" / f"{name}.csv").is_file()
        assert (tmp_path / "tables" / f"{name}.parquet").is_file()
    tr = read_table(tmp_path / "tables", "transport")
    assert len(tr) == 12 and set(tr["composition"]) == {"Ni"} and set(tr["x_Ni"]) == {1.0}
    assert set(tr["lattice"]) == {"fcc"} and set(tr["lead"]) == {"Cu"} and "x_fe" not in tr
    assert sorted(set(tr["L_nm"])) == pytest.approx([0.3 * 1.762, 0.5 * 1.762, 0.7 * 1.762])
    s = read_table(tmp_path / "tables", "summary").iloc[0]
    assert s["rho_par_uohm_cm"] == pytest.approx(5.0, rel=1e-6)
    assert s["rho_perp_uohm_cm"] == pytest.approx(4.5, rel=1e-6)
    assert s["alpha"] == pytest.approx(2 * 0.1 / (4 * math.pi * 0.6), rel=1e-9)
    assert s["delta_over_a"] == pytest.approx(0.02) and s["composition"] == "Ni"
    for kind in ("fit_resistance", "fano_length", "fit_damping", "rho_delta", "alpha_delta"):
        stem = tmp_path / "figures" / kind
        assert main(["plot", kind, "--tables-dir", str(tmp_path / "tables"), "--out", str(stem)]) == 0
        assert stem.with_suffix(".png").stat().st_size > 1000
        assert stem.with_suffix(".pdf").stat().st_size > 1000
    assert not list((tmp_path / "figures").glob(".tmp_*"))


def test_fit_rejects_a_result_that_is_not_its_plan_row(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    plan = _plan(tmp_path, THERMAL)
    for run in plan.run_records():
        m = "perp" if run["magnetization"] == "par" else "par"  # swapped on purpose
        _write_transport(Path(run["path"]), run["L_layers"], m, 1.0, 0.1, 0.6)
    assert _fit(tmp_path, plan) == 2
    assert "magnetization is 'perp' in the result but 'par' in the study plan" in capsys.readouterr().err


def test_run_dry_run_calls_snakemake_on_the_packaged_snakefile(tmp_path):
    exe = shutil.which("tbmto")
    cmd = [exe] if exe else [sys.executable, "-m", "tbmto.cli"]
    res = subprocess.run(cmd + ["run", str(REPO / "configs" / "tiny.yaml"), "--cores", "1", "-n",
                                "--directory", str(tmp_path), "--quiet", "rules"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    # the echoed snakemake command line: the workflow shipped in the package
    from tbmto.cli import snakefile_path

    assert snakefile_path().parts[-3:] == ("tbmto", "workflow", "Snakefile")
    assert str(snakefile_path()) in res.stderr
    assert not (tmp_path / "results").exists()


def test_fit_with_and_without_soc_skips_perp_nosoc(tmp_path, monkeypatch):
    """The workflow does not run perp without SOC (identical to par); the plan's runs agree."""
    from tbmto.io import read_table
    from tbmto.observables import area_resistance_ohm_m2

    monkeypatch.chdir(tmp_path)
    plan = _plan(tmp_path, {**THERMAL, "transport": {"soc": [True, False]}})
    assert not any(r["magnetization"] == "perp" and not r["soc"] for r in plan.run_records())
    rho = {("par", True): 5.0, ("perp", True): 4.5, ("par", False): 2.0}  # μΩ·cm
    RA_of_G = area_resistance_ohm_m2(1.0, 0.0621)
    for run in plan.run_records():
        L, c, m, soc = run["L_layers"], run["config"], run["magnetization"], run["soc"]
        RA = 2e-15 + rho[(m, soc)] * 1e-8 * L * 0.1762e-9 + (c - 0.5) * 1e-17
        _write_transport(Path(run["path"]), L, m, RA_of_G / RA, 0.1 * L, 0.6 * L, soc)
    assert _fit(tmp_path, plan) == 0
    s = read_table(tmp_path / "tables", "summary").set_index("soc")
    assert s.loc[True, "rho_par_uohm_cm"] == pytest.approx(5.0, rel=1e-6)
    assert s.loc[True, "amr"] == pytest.approx((5.0 - 4.5) / ((5.0 + 2 * 4.5) / 3), rel=1e-6)
    assert s.loc[False, "rho_par_uohm_cm"] == pytest.approx(2.0, rel=1e-6)
    assert math.isnan(s.loc[False, "rho_perp_uohm_cm"]) and math.isnan(s.loc[False, "amr"])
