"""Golden numbers: the tiny study's results (configs/tiny.yaml) pinned against physics drift.

tests/data/golden_tiny.json holds the summary of the tiny thermal-Ni study (ρ∥, ρ⊥, ρ̄, AMR,
α, the R·A and damping intercepts, the slope errors) and a few transport rows (G, T, M, channel
counts), as computed by this code. The test reruns the study (the ``tiny_run`` fixture of
test_workflow.py) and compares.

Tolerance (``RTOL`` below, relative, plus ``ATOL_FRACTION`` of the column's largest magnitude
for values near zero such as the AMR of these nearly isotropic thermal-Ni slabs) — measured,
see the file's ``tolerance`` entry: the study run with 1 and 2 MPI ranks is bitwise identical,
and with OpenBLAS forced to other CPU kernels (``OPENBLAS_CORETYPE=Sandybridge``: no FMA, as on
an older CI machine; ``Prescott``: SSE3 only; ``Zen``: bitwise) every pinned value moved by at
most 3.2e−9 relative (ρ 2e−9, G 2e−11; the AMR, a small difference, 7e−8 relative = 1e−10
absolute). 1e−6 is 300× above that round-off (which the SCF iteration, converged to 1e−4 Ry,
passes on damped) and 10⁴× below a 1 % physics change (a changed default — SOC form,
linearisation, k grid, screening — moves ρ and α by percents).

Regenerate (only for a deliberate physics change, in the same commit, with the reason in the
commit message)::

    python tests/test_golden.py --update          # runs configs/tiny.yaml (~1–2 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "data" / "golden_tiny.json"

RTOL = 1e-6
"""Relative tolerance of every pinned number (see the module docstring)."""

ATOL_FRACTION = 1e-6
"""Absolute tolerance of a value, as a fraction of the largest |value| of its column among the
pinned rows: AMR and the intercepts may be close to zero, where a relative tolerance alone is
stricter than round-off."""

SUMMARY_COLUMNS = [
    "rho_par_uohm_cm", "rho_perp_uohm_cm", "rho_avg_uohm_cm", "amr", "alpha",
    "rho_par_uohm_cm_err", "rho_perp_uohm_cm_err", "alpha_err",
    "RA_interface_par_ohm_m2", "RA_interface_perp_ohm_m2", "damping_interface_T", "dT_dL_per_layer",
]
SUMMARY_KEYS = ["system", "soc"]

TRANSPORT_COLUMNS = ["G_e2h", "R_ohm_m2", "damping_T", "damping_T_yy", "moment_muB", "n_modes_left", "n_modes_right"]
TRANSPORT_KEYS = ["system", "L_layers", "config", "magnetization", "soc"]
TRANSPORT_ROWS = [  # (system index in the plan, L, configuration, magnetisation): both Δ, both m, short and long
    (0, 2, 0, "par"), (0, 4, 1, "perp"), (1, 3, 0, "perp"), (1, 4, 1, "par"),
]


def extract(tables: Path) -> dict:
    """The pinned quantities of a finished tiny study from its ``tables`` directory."""
    summary = pd.read_parquet(tables / "summary.parquet")
    transport = pd.read_parquet(tables / "transport.parquet")
    systems = sorted(transport["system"].unique())
    rows = []
    for i, L, c, m in TRANSPORT_ROWS:
        sel = transport[(transport["system"] == systems[i]) & (transport["L_layers"] == L)
                        & (transport["config"] == c) & (transport["magnetization"] == m) & transport["soc"]]
        assert len(sel) == 1, (systems[i], L, c, m)
        rows.append({k: _plain(sel.iloc[0][k]) for k in TRANSPORT_KEYS + TRANSPORT_COLUMNS})
    return {
        "summary": [{k: _plain(r[k]) for k in SUMMARY_KEYS + SUMMARY_COLUMNS} for _, r in summary.iterrows()],
        "transport": rows,
    }


def _plain(v):
    """numpy scalar → JSON scalar (floats kept to all 17 digits by json)."""
    if hasattr(v, "item"):
        v = v.item()
    return v


def compare(got: dict, ref: dict) -> list[str]:
    """Differences beyond the tolerance, one line each naming the row, column and both values."""
    problems = []
    for table, keys, cols in (("summary", SUMMARY_KEYS, SUMMARY_COLUMNS),
                              ("transport", TRANSPORT_KEYS, TRANSPORT_COLUMNS)):
        g_rows = {tuple(r[k] for k in keys): r for r in got[table]}
        r_rows = {tuple(r[k] for k in keys): r for r in ref[table]}
        if set(g_rows) != set(r_rows):
            problems.append(f"{table}: rows {sorted(map(str, g_rows))} instead of {sorted(map(str, r_rows))}")
            continue
        for col in cols:
            scale = max(abs(r[col]) for r in r_rows.values() if not math.isnan(r[col]))
            for key, r in r_rows.items():
                a, b = g_rows[key][col], r[col]
                if math.isnan(b) and math.isnan(a):
                    continue
                if not abs(a - b) <= RTOL * abs(b) + ATOL_FRACTION * scale:
                    rel = abs(a - b) / abs(b) if b else math.inf
                    problems.append(f"{table} {dict(zip(keys, key))} {col}: {a!r} != pinned {b!r} (rel. {rel:.2e})")
    return problems


@pytest.mark.slow
def test_tiny_study_matches_the_golden_numbers(tiny_run):
    work, cfg, plan = tiny_run
    ref = json.loads(GOLDEN.read_text())
    assert ref["config"] == yaml_text(REPO / "configs" / "tiny.yaml"), (
        "configs/tiny.yaml changed since the golden numbers were pinned: regenerate them "
        "(python tests/test_golden.py --update) and say why in the commit message")
    problems = compare(extract(work / plan.root / "tables"), ref)
    assert not problems, ("physics drift against tests/data/golden_tiny.json (a deliberate change of a default "
                          "updates the file in the same commit, with the reason in the message):\n"
                          + "\n".join(problems))


def test_golden_comparison_catches_a_one_percent_change():
    """The comparison itself: the pinned file against itself passes, a 1 % change of ρ∥ or of
    one transport G fails naming the row and column, a 1e−9 change passes."""
    import copy

    ref = json.loads(GOLDEN.read_text())
    assert compare(ref, ref) == []
    for table, col, factor, fails in (("summary", "rho_par_uohm_cm", 1.01, True), ("transport", "G_e2h", 0.99, True),
                                      ("summary", "alpha", 1 + 1e-9, False)):
        got = copy.deepcopy(ref)
        got[table][0][col] *= factor
        problems = compare(got, ref)
        assert bool(problems) == fails, (table, col, problems)
        if fails:
            assert col in problems[0] and table in problems[0]


def yaml_text(path: Path):
    """The parsed study config (comments and formatting do not count as a change)."""
    import yaml

    return yaml.safe_load(path.read_text())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Rerun configs/tiny.yaml and rewrite tests/data/golden_tiny.json "
                                "(only for a deliberate physics change; say why in the commit message).")
    p.add_argument("--update", action="store_true", help="write the golden file (default: compare and report)")
    p.add_argument("--workdir", default=None, help="an existing or new working directory for the run")
    args = p.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="golden_tiny_"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "tiny.yaml"
    shutil.copy(REPO / "configs" / "tiny.yaml", cfg)
    from tbmto.cli import snakefile_path

    subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(snakefile_path()), "-d", str(work),
                    "--cores", "2", "--configfile", str(cfg)], check=True)
    got = extract(work / "results" / "tiny" / "tables")
    if not args.update:
        problems = compare(got, json.loads(GOLDEN.read_text()))
        print("\n".join(problems) or f"matches {GOLDEN} (rtol {RTOL:g})")
        return 1 if problems else 0
    old = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}  # keep the measured tolerance note
    data = {
        "_comment": ("Golden numbers of configs/tiny.yaml (tests/test_golden.py). Regenerate with "
                     "`python tests/test_golden.py --update` ONLY for a deliberate physics change, in the same "
                     "commit, with the reason in the commit message."),
        "tolerance": old.get("tolerance", {}),
        "config": yaml_text(REPO / "configs" / "tiny.yaml"),
        **got,
    }
    from tbmto.io import write_json

    write_json(data, GOLDEN)
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
