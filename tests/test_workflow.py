"""The Snakemake workflow: DAG shape for every shipped config (dry runs, no physics), readable
config errors, an end-to-end run of configs/tiny.yaml with rerun semantics and the MPI path, and
an end-to-end run of the bcc alloy study configs/tiny_feco.yaml.

The end-to-end tests (marked ``slow``: ``pytest -m slow``) run the real physics (ASA potentials, transport) on a tiny thermal-Ni study
(about a minute on 2 cores) and a tiny bcc Fe0.75Co0.25 | bcc Cu study in temporary working
directories (``snakemake -d``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tbmto.cli import snakefile_path
from tbmto.config import expand_plan, load_config

REPO = Path(__file__).resolve().parent.parent
SNAKEFILE = snakefile_path()  # the packaged workflow, as `tbmto run` runs it
ROOT_SNAKEFILE = REPO / "Snakefile"  # the checkout's entry point: includes the packaged one
CONFIGS = ["default", "tiny", "tiny_feco", "nife_alloys", "ni_thermal", "feco_bcc", "nico", "fe_thermal",
           "interfaces", "domain_walls"]


def snakemake(workdir: Path, *args: str, configfile: Path | None = None, timeout: int = 600,
              snakefile: Path = SNAKEFILE):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "-d", str(workdir), "--cores", "2"]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout)


def job_stats(output: str) -> dict[str, int]:
    """Job counts from the 'Job stats' table of a snakemake (dry) run; {} if nothing to do."""
    stats: dict[str, int] = {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Job stats:"):
            for row in lines[i + 3:]:
                m = re.match(r"^(\w+)\s+(\d+)$", row.strip())
                if not m:
                    break
                stats[m.group(1)] = int(m.group(2))
            break
    stats.pop("total", None)
    return stats


def expected_jobs(plan) -> dict[str, int]:
    jobs = {"potential": len(plan.potentials()), "plan": 1, "all": 1}
    if plan.systems:
        jobs.update({
            "structure": len(plan.structure_files()),
            # nested: one job per (system, configuration, magnetisation, SOC) writes every length
            "transport": len(plan.transport_files()) // (len(plan.lengths) if plan.nested else 1),
            "fit": 1,
            "figure": len(plan.figure_names()),
        })
        if plan.spin_pumping:
            jobs["pumping"] = len(plan.pumping_files())
    if plan.interfaces:
        n = len(plan.interface_files())
        jobs.update({"interface_structure": n, "mixing": n, "interfaces_table": 1, "interfaces_figure": 1})
    if plan.domain_walls:
        recs = plan.wall_records()
        configs = {(r["domain_wall"], r["config"]) for r in recs}
        bulk = {(r["domain_wall"], r["config"]) for r in recs if r["bulk_path"]}
        jobs.update({"wall_structure": len(configs), "wall": len(recs), "walls_table": 1, "walls_figure": 2})
        if bulk:
            jobs["wall_bulk"] = len(bulk)
    return jobs


# ----------------------------------------------------------------------------- no physics


@pytest.mark.parametrize("name", CONFIGS)
def test_dry_run_dag_matches_plan(name, tmp_path):
    cfg = REPO / "configs" / f"{name}.yaml"
    res = snakemake(tmp_path, "-n", configfile=cfg)
    assert res.returncode == 0, res.stderr + res.stdout
    assert job_stats(res.stdout + res.stderr) == expected_jobs(expand_plan(load_config(cfg)))
    assert not (tmp_path / "results").exists()  # a dry run writes nothing


@pytest.mark.parametrize("snakefile", [SNAKEFILE, ROOT_SNAKEFILE], ids=["packaged", "root"])
def test_default_config_is_embedded(tmp_path, snakefile):
    """Plain `snakemake` (no --configfile) runs configs/default.yaml, not merged with anything,
    with the packaged Snakefile and with the checkout's root Snakefile (the README's first
    command), whose target rule `default` stands for the workflow's `all`."""
    res = snakemake(tmp_path, "-n", snakefile=snakefile)
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert "results/default/tables/summary.csv" in out
    expected = expected_jobs(expand_plan(load_config(REPO / "configs" / "default.yaml")))
    if snakefile == ROOT_SNAKEFILE:
        expected["default"] = expected.pop("all")
    assert job_stats(out) == expected
    # configs/default.yaml of the checkout is the packaged default (a link to it)
    assert (REPO / "configs" / "default.yaml").read_bytes() == (SNAKEFILE.parent.parent / "data" / "default.yaml").read_bytes()


def test_local_profile_dry_run(tmp_path):
    res = snakemake(tmp_path, "-n", "--profile", str(REPO / "workflow" / "profiles" / "local"),
                    configfile=REPO / "configs" / "tiny.yaml")
    assert res.returncode == 0, res.stderr


def test_invalid_config_fails_with_readable_message(tmp_path):
    cfg = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())
    cfg["geometry"]["supercell"] = [2, 2.5]
    cfg["geometry"]["colour"] = "red"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    res = snakemake(tmp_path, "-n", configfile=bad)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "geometry.supercell[1] = 2.5" in err and "integer" in err
    assert "unknown key 'colour'" in err


def test_mpi_launcher_and_blas_threads_in_transport_command(tmp_path):
    cfg = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())
    cfg["mpi"] = {"ranks": 2, "launcher": "srun"}
    p = tmp_path / "mpi.yaml"
    p.write_text(yaml.safe_dump(cfg))
    res = snakemake(tmp_path, "-n", "-p", configfile=p)
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert "srun -n 2 tbmto transport" in out
    assert "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1" in out


# ----------------------------------------------------------------------------- end to end


# tiny_run (configs/tiny.yaml run to completion once per session): tests/conftest.py


@pytest.mark.slow
def test_tiny_run_produces_tables_and_figures(tiny_run):
    work, cfg, plan = tiny_run
    root = work / plan.root
    for f in plan.table_paths() + plan.figure_files():
        assert (work / f).is_file(), f
    tr = pd.read_parquet(root / "tables" / "transport.parquet")
    assert len(tr) == len(plan.transport_files())
    assert set(tr["magnetization"]) == {"par", "perp"}
    assert (tr["G_e2h"] > 0).all() and (tr["R_ohm_m2"] > 0).all()
    summary = pd.read_csv(root / "tables" / "summary.csv")
    assert len(summary) == len(plan.systems) * len(plan.soc)
    for col in ("rho_par_uohm_cm", "rho_perp_uohm_cm", "rho_avg_uohm_cm", "amr", "alpha"):
        assert col in summary and col + "_err" in summary
    assert summary["rho_avg_uohm_cm"].notna().all()
    # spin-pumping prediction of the interface damping: Σ Re g↑↓ ≈ 2 × the Cu Sharvin count (1 per spin)
    assert summary["damping_interface_T_pumping"].between(1.5, 2.5).all()
    assert (summary["damping_interface_T_pumping_sharvin"] > summary["damping_interface_T_pumping"]).all()
    assert len(pd.read_csv(root / "tables" / "pumping.csv")) == len(plan.systems) * plan.configurations
    # one log per job, no temporary leftovers
    assert len(list((root / "logs" / "transport").rglob("*.log"))) == expected_jobs(plan)["transport"]
    assert tr["nested"].all() and np.isfinite(tr["damping_T_yy"]).all() and np.isfinite(tr["damping_T_xy"]).all()
    # per-k damping reduced to its participation ratio; the minima reach the summary
    assert tr["damping_k_participation"].between(1.0 / tr["n_k"].max(), 1.0).all()
    assert (summary["G_e2h_min"] > 0).all() and summary["damping_k_participation_min"].between(0, 1).all()
    # shot-noise Fano factor of every run, its range over the fitted lengths in the summary
    assert tr["fano"].between(0, 1).all()
    assert (summary["fano_min"] <= summary["fano_max"]).all() and summary["fano_max"].between(0, 1).all()
    assert not list(root.rglob(".tmp_*"))


@pytest.mark.slow
def test_nested_rows_equal_an_unnested_run_on_the_truncated_structures(tiny_run, tmp_path):
    """The rows of the nested study (one sweep per configuration) against ``tbmto transport`` on
    the truncated structures, one run per length, as an unnested study would compute them."""
    import shlex

    from tbmto.cli import main
    from tbmto.io import read_structure, write_structure
    from tbmto.structure import truncate

    work, cfg, plan = tiny_run
    system = plan.systems[-1]
    args = shlex.split(plan.transport_args(system.label, "par", "soc"))
    i = args.index("--lengths")
    del args[i:i + 2]
    pots = [str(work / plan.potential_path(p.label)) for p in (system.potential, system.lead_potential)]
    nested = read_structure(work / plan.structure_path(system.label, None, 1))
    for L in plan.lengths:
        path = tmp_path / f"L{L}.extxyz"
        write_structure(truncate(nested, L), path)
        out = tmp_path / f"L{L}.json"
        assert main(["transport", "--structure", str(path), "--potentials", *pots, *args,
                     "--no-progress", "--out", str(out)]) == 0
        ref = json.loads(out.read_text())["result"]
        got = json.loads((work / plan.transport_path(system.label, L, 1, "par", "soc")).read_text())["result"]
        assert got["nested_lengths"] == list(plan.lengths) and ref["nested_lengths"] is None
        for key in ("G_e2h", "damping_T", "damping_T_yy", "moment_muB", "n_modes_right"):
            assert got[key] == pytest.approx(ref[key], rel=1e-10), key


@pytest.mark.slow
def test_rerun_does_nothing(tiny_run):
    work, cfg, _ = tiny_run
    res = snakemake(work, "-n", configfile=cfg)
    assert res.returncode == 0
    assert "Nothing to be done" in res.stdout + res.stderr


def _dry_run_without(work: Path, cfg: Path, relpath: str) -> dict[str, int]:
    """Job stats of a dry run with one output deleted (restored afterwards, mtime included)."""
    target = work / relpath
    st = target.stat()
    backup = target.read_bytes()
    target.unlink()
    try:
        res = snakemake(work, "-n", configfile=cfg)
        assert res.returncode == 0, res.stderr
        return job_stats(res.stdout + res.stderr)
    finally:
        target.write_bytes(backup)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.slow
def test_deleted_transport_output_reruns_only_downstream(tiny_run):
    work, cfg, plan = tiny_run
    stats = _dry_run_without(work, cfg, plan.transport_files()[3])
    assert stats == {"transport": 1, "fit": 1, "figure": len(plan.figure_names()), "all": 1}


@pytest.mark.slow
def test_deleted_structure_reruns_its_transport_jobs(tiny_run):
    work, cfg, plan = tiny_run
    stats = _dry_run_without(work, cfg, plan.structure_files()[0])
    n = len(plan.magnetizations) * len(plan.soc)
    assert stats == {"structure": 1, "transport": n, "fit": 1, "figure": len(plan.figure_names()), "all": 1,
                     **({"pumping": 1} if plan.spin_pumping else {})}


def _pumping(p) -> dict:
    """The spin-pumping mixing jobs of a plan (they rerun with the structures, potentials, k mesh)."""
    return {"pumping": len(p.pumping_files())} if p.spin_pumping else {}


@pytest.mark.slow
@pytest.mark.parametrize(
    "section,key,value,expected",
    [
        # k-mesh: transport and everything downstream, never potentials or structures
        ("transport", "kmesh", [3, 3], lambda p: {"transport": expected_jobs(p)["transport"], "fit": 1,
                                                    "figure": len(p.figure_names()), "all": 1, **_pumping(p)}),
        # fit settings: fits/tables and figures only
        ("fit", "g_factor", 2.1, lambda p: {"fit": 1, "figure": len(p.figure_names()), "all": 1}),
        # SCF tolerance: potentials and the transport that reads them, not the structures
        ("scf", "tol_Ry", 5e-5, lambda p: {"potential": len(p.potentials()), "transport": expected_jobs(p)["transport"],
                                            "fit": 1, "figure": len(p.figure_names()), "all": 1, **_pumping(p)}),
        # seed: structures (new disorder) and downstream, not the potentials
        (None, "seed", 8, lambda p: {"structure": len(p.structure_files()), "transport": expected_jobs(p)["transport"],
                                     "fit": 1, "figure": len(p.figure_names()), "all": 1, **_pumping(p)}),
        # MPI rank count: same results, nothing to redo
        ("mpi", "ranks", 2, lambda p: {}),
        # a longer length: the nested structures are rebuilt (their prefixes are unchanged) and
        # every transport job reruns, since one sweep now covers the longer slab; the plan's
        # tables gain the new runs
        ("geometry", "lengths", [2, 3, 4, 5], lambda p: {"structure": len(p.structure_files()),
                                                          "transport": expected_jobs(p)["transport"],
                                                          "plan": 1, "fit": 1,
                                                          "figure": len(p.figure_names()), "all": 1,
                                                          **_pumping(p)}),
        # memory limit and lead cache: results unchanged, nothing to redo
        ("transport", "memory_limit_gb", 0.5, lambda p: {}),
        ("transport", "lead_cache", False, lambda p: {}),
    ],
    ids=["kmesh", "g_factor", "scf_tol", "seed", "mpi_ranks", "add_length", "memory_limit", "lead_cache"],
)
def test_config_change_reruns_exactly_its_dependents(tiny_run, section, key, value, expected):
    work, cfg, plan = tiny_run
    data = yaml.safe_load(cfg.read_text())
    (data.setdefault(section, {}) if section else data)[key] = value
    changed = work / f"changed_{key}.yaml"
    changed.write_text(yaml.safe_dump(data))
    res = snakemake(work, "-n", configfile=changed)
    assert res.returncode == 0, res.stderr
    assert job_stats(res.stdout + res.stderr) == expected(plan)


@pytest.mark.slow
def test_report_collects_figures(tiny_run):
    work, cfg, plan = tiny_run
    report = work / "report.html"
    res = snakemake(work, "--report", str(report), configfile=cfg)
    assert res.returncode == 0, res.stderr
    html = report.read_text(errors="ignore")
    for name in plan.figure_names():
        assert f"{name}.png" in html


@pytest.mark.slow
@pytest.mark.mpi
def test_transport_under_mpiexec_equals_serial(tiny_run, tmp_path):
    work, cfg, plan = tiny_run
    system = plan.systems[-1]
    structure = work / plan.structure_path(system.label, plan.lengths[-1], 1)
    pots = [work / plan.potential_path(system.potential.label), work / plan.potential_path(system.lead_potential.label)]
    serial = work / plan.transport_path(system.label, plan.lengths[-1], 1, "perp", True)
    out = tmp_path / "mpi.json"
    mpiexec = shutil.which("mpiexec")
    assert mpiexec, "mpiexec (mpich wheel) not on PATH"
    cmd = [mpiexec, "-n", "2", shutil.which("tbmto") or "tbmto", "transport", "--structure", str(structure),
           "--potentials", *map(str, pots), "--magnetization", "perp", "--soc", "--damping", "--no-progress",
           "--kmesh", f"{plan.kmesh[0]},{plan.kmesh[1]}", "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr
    a, b = json.loads(serial.read_text()), json.loads(out.read_text())
    assert b["provenance"]["mpi_ranks"] == 2
    for key in ("G_e2h", "damping_T", "moment_muB", "n_modes_left", "n_modes_right", "transmission_k", "damping_k"):
        assert a["result"][key] == b["result"][key], key


@pytest.mark.slow
def test_tiny_bcc_feco_study_end_to_end(tmp_path):
    """A bcc alloy by a config edit: alloy SCF in bcc, bcc Cu leads, x_<El>,
    composition, lattice and lead columns, and the potentials table."""
    cfg = REPO / "configs" / "tiny_feco.yaml"
    res = snakemake(tmp_path, configfile=cfg, timeout=900)
    plan = expand_plan(load_config(cfg))
    if res.returncode != 0:
        logs = "\n".join(p.read_text()[-2000:] for p in sorted((tmp_path / "results").rglob("*.log"))[:3])
        pytest.fail(f"tiny_feco workflow failed:\n{res.stderr[-4000:]}\n{logs}")
    root = tmp_path / plan.root
    tr = pd.read_parquet(root / "tables" / "transport.parquet")
    assert len(tr) == len(plan.transport_files()) and (tr["G_e2h"] > 0).all()
    assert set(tr["composition"]) == {"Fe0.75Co0.25"} and set(tr["lattice"]) == {"bcc"}
    assert set(tr["lead"]) == {"Cu"} and set(tr["x_element"]) == {"Co"}
    assert (tr["x_Fe"] == 0.75).all() and (tr["x_Co"] == 0.25).all() and "x_fe" not in tr
    assert tr["L_nm"].tolist() == pytest.approx((tr["L_layers"] * 2.852 / 2 / 10).tolist(), rel=1e-3)
    summary = pd.read_csv(root / "tables" / "summary.csv")
    assert summary["composition"].tolist() == ["Fe0.75Co0.25"] and np.isfinite(summary["rho_avg_uohm_cm"]).all()
    pots = pd.read_csv(root / "tables" / "potentials.csv")
    slab = pots[pots["role"] == "slab"].set_index("species")
    assert sorted(slab.index) == ["Co", "Fe"]
    assert slab.loc["Co", "concentration"] == 0.25 and slab.loc["Co", "site_fraction"] == 0.25
    # strong ferromagnet: Fe well above Co, both parallel; sphere charges near neutral
    assert slab.loc["Fe", "moment_muB"] > slab.loc["Co", "moment_muB"] > 1.0
    assert (slab["net_charge_e"].abs() < 0.2).all() and (slab["xi_d_Ry"] > 0.003).all()
    lead = pots[pots["role"] == "lead"]
    assert lead["species"].tolist() == ["Cu"] and abs(float(lead["moment_muB"].iloc[0])) < 1e-3
    assert set(pots["lattice"]) == {"bcc"} and {"x_Fe", "x_Co"} <= set(pots.columns)
    for f in plan.figure_files():
        assert (tmp_path / f).is_file(), f



@pytest.mark.slow
def test_default_study_runs_and_its_report_has_every_figure(tmp_path):
    """The README's main job (plain `snakemake`, the embedded default permalloy study) end to end,
    then `snakemake --report`: every figure of the plan is in the report (about 2 min)."""
    res = snakemake(tmp_path, timeout=1200)
    plan = expand_plan(load_config(REPO / "configs" / "default.yaml"))
    assert res.returncode == 0, res.stderr[-4000:]
    summary = pd.read_csv(tmp_path / plan.root / "tables" / "summary.csv")
    assert np.isfinite(summary[["rho_avg_uohm_cm", "amr", "alpha"]].to_numpy()).all()
    report = tmp_path / "report.html"
    res = snakemake(tmp_path, "--report", str(report))
    assert res.returncode == 0, res.stderr[-4000:]
    html = report.read_text(errors="ignore")
    for name in plan.figure_names():
        assert f"{name}.png" in html, name


@pytest.mark.slow
def test_interfaces_study_end_to_end(tmp_path):
    """An interfaces-only study through the workflow: element potentials, N|F(d)|N structures,
    `tbmto mixing` jobs, the interfaces table and the gmix_d figure."""
    cfg = {"study": "itf", "seed": 1, "scf": {"kmesh": 8, "tol_Ry": 1e-4},
           "interfaces": [{"normal": "Cu", "ferromagnet": "Co", "thickness_layers": [1, 3], "kmesh": [6, 6]}]}
    path = tmp_path / "itf.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = snakemake(tmp_path, configfile=path, timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    plan = expand_plan(cfg)
    tab = pd.read_csv(tmp_path / plan.root / "tables" / "interfaces.csv")
    assert tab["d_layers"].tolist() == [1, 3] and (tab["n_k"] == 36).all()
    assert ((tab["re_gmix_1e15"] > 0.3) & (tab["re_gmix_1e15"] < 0.7)).all()
    # the two interfaces of Cu|Co(d)|Cu are mirror images: equal up to solver round-off (1e-9 seen)
    assert ((tab["re_gmix_1e15"] - tab["re_gmix_right_1e15"]).abs() < 1e-6 * tab["re_gmix_1e15"]).all()
    assert (tmp_path / plan.root / "figures" / "gmix_d.png").is_file()
    assert not (tmp_path / plan.root / "tables" / "summary.csv").exists()      # no systems, no fits


@pytest.mark.slow
def test_domain_walls_study_end_to_end(tmp_path):
    """A domain-walls-only study through the workflow: element potentials, one Cu | Ni | Cu
    structure, two wall types at two widths (`tbmto wall`), the bulk reference (`tbmto transport`
    at both lengths), the domain-walls tables and the alpha_dw / pbeta_dw figures."""
    cfg = {"study": "dw", "seed": 1, "scf": {"kmesh": 8, "tol_Ry": 1e-4},
           "domain_walls": [{"elements": ["Ni"], "walls": ["neel", "bloch"], "lambda_nm": [0.3, 1.0],
                             "length_nm": 2.5, "kmesh": [2, 2]}]}
    path = tmp_path / "dw.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = snakemake(tmp_path, configfile=path, timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    plan = expand_plan(cfg)
    tab = pd.read_csv(tmp_path / plan.root / "tables" / "domain_walls.csv", dtype={"direction": str})
    assert len(tab) == 4 and set(tab["wall"]) == {"neel", "bloch"} and (tab["direction"] == "001").all()
    assert (tab["alpha_dw"] > 0).all() and np.isfinite(tab["alpha_bulk"]).all() and (tab["n_configs"] == 1).all()
    # a narrower wall reflects more: α_DW(0.3 nm) ≫ α_DW(1 nm) in a clean slab
    for _, grp in tab.groupby("wall"):
        ordered = grp.sort_values("lambda_nm")["alpha_dw"].to_numpy()
        assert ordered[0] > 10 * ordered[1]
    per = pd.read_csv(tmp_path / plan.root / "tables" / "domain_walls_configs.csv")
    assert (per["friedel_per_nm"].abs() < 1e-8).all()  # walls centred between layers: mirror symmetric
    for fig in ("alpha_dw", "pbeta_dw"):
        assert (tmp_path / plan.root / "figures" / f"{fig}.png").is_file()
