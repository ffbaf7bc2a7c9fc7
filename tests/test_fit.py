"""Line fits with configuration-spread errors, derived ρ̄/AMR/α, and the summary table (tbmto.fit, tbmto.tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tbmto.fit import alpha_from_slopes, fit_line, fit_lines, resistivity_summary, resistivity_uohm_cm
from tbmto.tables import fit_table, summary_table

L = np.array([4.0, 6.0, 8.0, 10.0, 12.0])


def _draws(n_draws, n_conf, slope=0.5, intercept=1.0, seed=0, hetero=True):
    """Synthetic R(L) samples: noise σ(L) = 0.3 √L (variance ∝ L, as for disorder)."""
    rng = np.random.default_rng(seed)
    sig = 0.3 * np.sqrt(L) if hetero else np.full_like(L, 0.5)
    Ls = np.repeat(L, n_conf)
    for _ in range(n_draws):
        y = intercept + slope * Ls + np.repeat(sig, n_conf) * rng.standard_normal(Ls.size)
        yield Ls, y, sig


def _calibration(method, n_conf, n_draws=1500, seed=0):
    slopes, errs = [], []
    for Ls, y, sig in _draws(n_draws, n_conf, seed=seed):
        f = fit_line(Ls, y, method)
        slopes.append(f.slope)
        errs.append(f.slope_err)
    slopes, errs = np.array(slopes), np.array(errs)
    return slopes, errs


def test_exact_line_recovered_with_zero_error():
    Ls = np.repeat(L, 3)
    f = fit_line(Ls, 2.0 + 0.25 * Ls, "spread")
    assert f.slope == pytest.approx(0.25, rel=1e-12)
    assert f.intercept == pytest.approx(2.0, rel=1e-12)
    # identical configurations: no spread → residual error model, exactly zero for a line
    assert f.method == "residual"
    assert f.slope_err == pytest.approx(0.0, abs=1e-12)
    assert f.n_lengths == 5 and f.n_configs == 3


@pytest.mark.parametrize("n_conf", [3, 5])
def test_spread_error_matches_empirical_scatter(n_conf):
    slopes, errs = _calibration("spread", n_conf)
    empirical = slopes.std(ddof=1)
    reported = math.sqrt(np.mean(errs**2))
    assert abs(reported / empirical - 1.0) < 0.1, (reported, empirical)
    # unbiased slope: mean within 4 standard errors of the truth
    assert abs(slopes.mean() - 0.5) < 4 * empirical / math.sqrt(slopes.size)
    # and the exact theory value Var = Σ c_i² σ_i²/n of the OLS estimator
    X = np.column_stack([np.ones_like(L), L])
    c = np.linalg.solve(X.T @ X, X.T)[1]
    theory = math.sqrt(np.sum(c**2 * (0.3 * np.sqrt(L)) ** 2 / n_conf))
    assert empirical == pytest.approx(theory, rel=0.08)


def test_weighted_error_calibrated_for_many_configurations():
    slopes, errs = _calibration("weighted", 20, n_draws=800)
    assert abs(math.sqrt(np.mean(errs**2)) / slopes.std(ddof=1) - 1.0) < 0.2


def test_weighted_error_too_small_for_few_configurations():
    """Documented limitation: 1/σ² weights from 3 configurations understate the slope error."""
    slopes, errs = _calibration("weighted", 3)
    assert math.sqrt(np.mean(errs**2)) < 0.8 * slopes.std(ddof=1)


def test_residual_method_calibrated():
    slopes, errs = _calibration("residual", 4)
    assert abs(math.sqrt(np.mean(errs**2)) / slopes.std(ddof=1) - 1.0) < 0.15


def test_joint_fit_covariance_of_correlated_observables():
    """Two observables on the same samples (shared disorder noise) → correlated slopes."""
    rng = np.random.default_rng(3)
    Ls = np.repeat(L, 5)
    s1, s2, c12 = [], [], []
    for _ in range(1500):
        common = rng.standard_normal(Ls.size)
        y1 = 1.0 + 0.5 * Ls + 0.4 * common + 0.1 * rng.standard_normal(Ls.size)
        y2 = 0.5 + 0.3 * Ls + 0.3 * common + 0.1 * rng.standard_normal(Ls.size)
        jf = fit_lines(Ls, np.column_stack([y1, y2]), "spread")
        s1.append(jf.fits[0].slope)
        s2.append(jf.fits[1].slope)
        c12.append(jf.slope_cov[0, 1])
    emp = np.cov(np.array([s1, s2]))[0, 1]
    assert np.mean(c12) == pytest.approx(emp, rel=0.15)
    assert emp > 0


def test_single_configuration_falls_back_to_residual():
    rng = np.random.default_rng(1)
    y = 1.0 + 0.5 * L + 0.1 * rng.standard_normal(L.size)
    f = fit_line(L, y, "spread")
    assert f.method == "residual" and f.n_configs == 1 and f.slope_err > 0


def test_bad_input():
    with pytest.raises(ValueError, match="method"):
        fit_line(L, L, "magic")
    with pytest.raises(ValueError, match="2 distinct lengths"):
        fit_line([4, 4, 4], [1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        fit_line(L, np.where(L > 8, np.nan, L))
    with pytest.raises(ValueError, match="dM_dL"):
        alpha_from_slopes(1.0, 0.0, np.zeros((2, 2)))


def test_resistivity_formulas_exact():
    assert resistivity_uohm_cm(3.5e-8) == pytest.approx(3.5)
    r = resistivity_summary(4.0, 3.25, np.zeros((2, 2)))
    assert r["rho_avg"] == pytest.approx((4.0 + 2 * 3.25) / 3)
    assert r["amr"] == pytest.approx(0.75 / 3.5)
    assert r["rho_avg_err"] == 0.0 and r["amr_err"] == 0.0


def test_resistivity_error_propagation_against_monte_carlo():
    cov = np.array([[0.04, 0.03], [0.03, 0.05]])
    r = resistivity_summary(4.0, 3.25, cov)
    rng = np.random.default_rng(5)
    p, q = rng.multivariate_normal([4.0, 3.25], cov, size=200000).T
    avg = (p + 2 * q) / 3
    amr = (p - q) / avg
    assert r["rho_avg_err"] == pytest.approx(avg.std(), rel=0.01)
    assert r["amr_err"] == pytest.approx(amr.std(), rel=0.03)
    # correlated errors partly cancel in ρ∥ − ρ⊥: smaller than the uncorrelated estimate
    r0 = resistivity_summary(4.0, 3.25, np.diag(np.diag(cov)))
    assert r["amr_err"] < r0["amr_err"]


def test_alpha_formula_and_error():
    a, err = alpha_from_slopes(0.2, 1.5, np.diag([1e-4, 1e-6]), g=2.0)
    assert a == pytest.approx(2.0 * 0.2 / (4 * math.pi * 1.5))
    expect = a * math.sqrt((1e-2 / 0.2) ** 2 + (1e-3 / 1.5) ** 2)
    assert err == pytest.approx(expect, rel=1e-10)


def _synthetic_transport(rho_par=4.0, rho_perp=3.0, alpha=0.0046, noise=0.0, n_conf=3, seed=0, soc=True):
    """A transport table with R·A = RA0 + ρ L (ρ in μΩ·cm), T = g⁻¹ 4π α M(L) + T0."""
    rng = np.random.default_rng(seed)
    d_nm = 0.1774
    area = 0.25
    rows = []
    for Lr in (4, 6, 8, 10):
        for c in range(n_conf):
            eps = noise * rng.standard_normal()
            M = 1.6 * 4 * Lr  # μB per supercell: 4 atoms per layer × 1.6 μB
            for m, rho in (("par", rho_par), ("perp", rho_perp)):
                RA = 1.5e-15 + rho * 1e-8 * Lr * d_nm * 1e-9 + eps * 1e-16
                G = area * 1e-18 / RA / 3.874045865e-5  # e²/h in S
                T = 4 * math.pi * alpha * M / 2.0 + 0.3 + eps
                rows.append(dict(system="Py", scan="NiFe", kind="alloy", x=0.2, x_fe=0.2, delta_angstrom=0.0,
                                 lattice_constant_angstrom=3.548, direction="001", L_layers=Lr, L_nm=Lr * d_nm,
                                 config=c, magnetization=m, soc=soc, G_e2h=G, area_nm2=area, R_ohm_m2=RA,
                                 damping_T=T, moment_muB=M, n_modes_left=10.0, n_modes_right=10.0, n_k=4,
                                 seconds=1.0))
    return pd.DataFrame(rows)


def test_summary_table_recovers_exact_inputs():
    df = _synthetic_transport()
    s = summary_table(df)
    assert len(s) == 1
    row = s.iloc[0]
    assert row["rho_par_uohm_cm"] == pytest.approx(4.0, rel=1e-9)
    assert row["rho_perp_uohm_cm"] == pytest.approx(3.0, rel=1e-9)
    assert row["rho_avg_uohm_cm"] == pytest.approx(10.0 / 3, rel=1e-9)
    assert row["amr"] == pytest.approx(1.0 / (10.0 / 3), rel=1e-9)
    assert row["alpha"] == pytest.approx(0.0046, rel=1e-9)
    assert row["alpha_source"] == "par"
    assert row["RA_interface_par_ohm_m2"] == pytest.approx(1.5e-15, rel=1e-9)
    assert row["damping_interface_T"] == pytest.approx(0.3, rel=1e-9)
    for col in ("rho_par_uohm_cm_err", "amr_err", "alpha_err"):
        assert row[col] == pytest.approx(0.0, abs=1e-9)
    fits = fit_table(df)
    assert set(fits["quantity"]) == {"RA_ohm_m2", "damping_T", "moment_muB"}
    assert set(fits["magnetization"]) == {"par", "perp"}


def test_summary_table_errors_with_noise_and_average_source():
    df = _synthetic_transport(noise=0.05, n_conf=4, seed=2)
    s = summary_table(df, damping_from="average").iloc[0]
    assert s["alpha_source"] == "average"
    assert s["rho_par_uohm_cm_err"] > 0 and s["alpha_err"] > 0
    # the same noise enters ρ∥ and ρ⊥ (shared structures): AMR error far below the ρ errors
    assert s["amr_err"] * s["rho_avg_uohm_cm"] < 0.5 * s["rho_par_uohm_cm_err"]
    assert abs(s["rho_par_uohm_cm"] - 4.0) < 5 * s["rho_par_uohm_cm_err"]


def test_summary_without_perp_or_damping():
    df = _synthetic_transport()
    df = df[df["magnetization"] == "par"].assign(damping_T=np.nan)
    s = summary_table(df).iloc[0]
    assert s["rho_par_uohm_cm"] == pytest.approx(4.0)
    assert math.isnan(s["rho_perp_uohm_cm"]) and math.isnan(s["amr"]) and math.isnan(s["alpha"])


def test_non_magnetic_slab_gives_undefined_alpha():
    df = _synthetic_transport().assign(moment_muB=lambda d: 1e-5 * d["L_layers"])
    s = summary_table(df).iloc[0]
    assert math.isnan(s["alpha"]) and "non-magnetic" in s["alpha_source"]
    assert s["rho_par_uohm_cm"] == pytest.approx(4.0)
