"""Line fits with configuration-spread errors, derived ρ̄/AMR/α, and the summary table (tbmto.fit, tbmto.tables)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tbmto.errors import LocalisationWarning
from tbmto.fit import alpha_from_slopes, fit_line, fit_lines, resistivity_summary, resistivity_uohm_cm
from tbmto.observables import k_participation
from tbmto.tables import LOCALISED_G_E2H, fit_table, summary_table

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
                rows.append(dict(system="Py", scan="NiFe", kind="alloy", x=0.2, x_Fe=0.2, delta_angstrom=0.0,
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
    # Sharvin term of two leads with 10 channels on 0.25 nm²: A / ((e²/h) 10), subtracted for 2AR_if
    sharvin = 0.25e-18 / (3.874045865e-5 * 10.0)
    assert row["RA_sharvin_ohm_m2"] == pytest.approx(sharvin, rel=1e-9)
    assert row["AR_if2_par_ohm_m2"] == pytest.approx(1.5e-15 - sharvin, rel=1e-8)
    assert row["AR_if2_par_ohm_m2_err"] == row["RA_interface_par_ohm_m2_err"]
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


def test_localised_lengths_warn_and_report_the_smallest_conductance():
    """A fit that reaches lengths with G < 1 e²/h per cell and k∥ (slab longer than the
    localisation length of its lateral cell) warns; the Ohmic table does not."""
    df = _synthetic_transport()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalisationWarning)
        s = summary_table(df).iloc[0]
    expect = df.groupby(["magnetization", "L_layers"])["G_e2h"].mean().min()
    assert s["G_e2h_min"] == pytest.approx(expect, rel=1e-12) and expect > LOCALISED_G_E2H
    assert math.isnan(s["damping_k_participation_min"])  # no per-k data in this table
    long = _synthetic_transport(rho_par=400.0, rho_perp=300.0)
    long = long.assign(damping_k_participation=np.where(long["L_layers"] == 10, 0.1, 0.6))
    with pytest.warns(LocalisationWarning, match=r"L = \[8, 10\] layers.*geometry.supercell"):
        s = summary_table(long).iloc[0]
    assert s["G_e2h_min"] < LOCALISED_G_E2H and s["damping_k_participation_min"] == pytest.approx(0.1)
    assert s["rho_par_uohm_cm"] == pytest.approx(400.0, rel=1e-9)  # a warning, the fit still runs


def test_min_conductance_keeps_the_conducting_lengths():
    long = _synthetic_transport(rho_par=400.0, rho_perp=300.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalisationWarning)  # the excluded lengths do not warn
        s = summary_table(long, min_conductance=LOCALISED_G_E2H).iloc[0]
        f = fit_table(long, min_conductance=LOCALISED_G_E2H)
    assert s["n_lengths"] == 2 and s["L_fit_max_nm"] == pytest.approx(6 * 0.1774)
    assert s["G_e2h_min"] >= LOCALISED_G_E2H
    assert s["rho_par_uohm_cm"] == pytest.approx(400.0, rel=1e-9) and s["alpha"] == pytest.approx(0.0046, rel=1e-9)
    assert (f["n_lengths"] == 2).all()
    with pytest.raises(ValueError, match="no length has G_e2h >= 100 e²/h.*fit.min_conductance_e2h"):
        summary_table(long, min_conductance=100.0)
    with pytest.raises(ValueError, match="min_conductance must be a positive"):
        summary_table(long, min_conductance=-1.0)


def test_k_participation():
    assert k_participation(np.full(36, 2.5)) == pytest.approx(1.0)
    assert k_participation(np.eye(1, 36).ravel() * 7.0) == pytest.approx(1.0 / 36)
    assert k_participation([1.0, 3.0]) == pytest.approx(16.0 / (2 * 10.0))
    assert math.isnan(k_participation([])) and math.isnan(k_participation([0.0, 0.0]))
    with pytest.raises(ValueError, match="values must be finite and >= 0"):
        k_participation([1.0, -0.5])


def test_non_magnetic_slab_gives_undefined_alpha():
    df = _synthetic_transport().assign(moment_muB=lambda d: 1e-5 * d["L_layers"])
    s = summary_table(df).iloc[0]
    assert math.isnan(s["alpha"]) and "non-magnetic" in s["alpha_source"]
    assert s["rho_par_uohm_cm"] == pytest.approx(4.0)


# ---- nested data: the shorter slabs are prefixes of one structure per configuration

L_NESTED = np.array([2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0])  # layers


def _nested_walks(n_trials, n_conf, sigma, seed):
    """Per-layer disorder increments summed over the layers of each prefix: a random walk in L.

    ``sigma`` is the (k, k) Cholesky factor of the per-layer increment covariance of k
    observables; returns shape (n_trials, n_conf, n_L, k), cov(y(L_i), y(L_j)) = min(L_i, L_j) σσᵀ.
    """
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((n_trials, n_conf, int(L_NESTED[-1]), sigma.shape[0])) @ sigma.T
    return np.cumsum(steps, axis=2)[:, :, L_NESTED.astype(int) - 1]


def _nested_rows(n_conf):
    """Rows (L, config) of one nested data set, configuration-major."""
    return np.tile(L_NESTED, n_conf), np.repeat(np.arange(n_conf), L_NESTED.size)


def _ols_variances_nested(p):
    """Variance of OLS parameter p (0 intercept, 1 slope) of a random walk with unit per-layer
    variance: exact Σ_ij e_i e_j min(L_i, L_j), and Σ_i e_i² L_i of the per-length formula."""
    X = np.column_stack([np.ones_like(L_NESTED), L_NESTED])
    e = np.linalg.solve(X.T @ X, X.T)[p]
    return e @ np.minimum.outer(L_NESTED, L_NESTED) @ e, e**2 @ L_NESTED


def test_nested_errors_calibrated_and_per_length_errors_not():
    """Random-walk R(L) of nested slabs: with config= the slope and intercept errors have the
    Student-t coverage for n_c − 1 degrees of freedom and mean(err²) = Var; the per-length
    formula (config=None) on the same data understates the variances by the predicted factor
    Σ e_i² L_i / Σ e_i e_j min(L_i, L_j) (0.79 slope, 0.82 intercept) and the slope coverage
    falls clearly below the t value (calibrated per-length errors, with more degrees of freedom,
    would cover at least that)."""
    n_trials, n_conf, slope, intercept, sigma = 5000, 8, 0.5, 1.0, 0.1
    y = intercept + slope * L_NESTED + _nested_walks(n_trials, n_conf, np.array([[sigma]]), seed=11)[..., 0]
    Ls, cfg = _nested_rows(n_conf)
    p_t = 2.0 * stats.t.cdf(1.0, n_conf - 1) - 1.0  # 0.649 for 7 degrees of freedom
    band = 4.0 * math.sqrt(p_t * (1.0 - p_t) / n_trials)  # 4 binomial standard deviations: 0.027
    var_tol = 4.0 * math.sqrt(2.0 / n_trials)  # 4σ of a sample variance: 8 %
    exact, per_length = np.array([_ols_variances_nested(1), _ols_variances_nested(0)]).T * sigma**2 / n_conf
    for config in (cfg, None):
        fits = [fit_line(Ls, y[t].ravel(), "spread", config=config) for t in range(n_trials)]
        assert fits[0].n_configs == n_conf  # per length too: n_conf rows, but correlated across lengths
        est = np.array([[f.slope, f.intercept] for f in fits])
        err = np.array([[f.slope_err, f.intercept_err] for f in fits])
        coverage = np.mean(np.abs(est - [slope, intercept]) < err, axis=0)
        var_est = est.var(axis=0, ddof=1)
        assert var_est == pytest.approx(exact, rel=var_tol)  # the random-walk variance of the estimator
        if config is not None:
            assert np.all(np.abs(coverage - p_t) < band), (coverage, p_t)
            assert np.mean(err**2, axis=0) / var_est == pytest.approx([1.0, 1.0], abs=var_tol)
        else:
            assert coverage[0] < p_t - band, (coverage, p_t)
            assert np.mean(err**2, axis=0) / var_est == pytest.approx(per_length / exact, abs=var_tol)
            assert np.all(per_length / exact < 1.0 - 2.0 * var_tol)


def test_nested_joint_fit_slope_covariance_matches_monte_carlo():
    """Two observables with correlated per-layer disorder (e.g. R·A for m ∥ and m ⊥ of the same
    nested structures): the reported 2×2 slope covariance, averaged over trials, equals the Monte
    Carlo covariance of the slope estimates within 4 sampling standard deviations."""
    n_trials, n_conf = 3000, 8
    chol = np.array([[0.10, 0.0], [0.06, 0.03]])  # per-layer correlation 0.89
    walks = _nested_walks(n_trials, n_conf, chol, seed=12)
    y = np.array([1.0, 0.5]) + np.multiply.outer(L_NESTED, [0.5, 0.3]) + walks
    Ls, cfg = _nested_rows(n_conf)
    fits = [fit_lines(Ls, y[t].reshape(-1, 2), "spread", config=cfg) for t in range(n_trials)]
    assert all(jf.nested for jf in fits[:3])
    slopes = np.array([[f.slope for f in jf.fits] for jf in fits])
    reported = np.array([jf.slope_cov for jf in fits])
    emp = np.cov(slopes, rowvar=False)
    # sampling variance of a sample covariance element: (S_aa S_bb + S_ab²)/(N − 1)
    var_emp = (np.outer(np.diag(emp), np.diag(emp)) + emp**2) / (n_trials - 1)
    var_rep = reported.var(axis=0, ddof=1) / n_trials
    assert np.all(np.abs(reported.mean(axis=0) - emp) < 4.0 * np.sqrt(var_emp + var_rep)), (reported.mean(axis=0), emp)
    # the exact slope covariance Σ_ij e_i e_j min(L_i, L_j) (σσᵀ)_ab / n_c
    exact = _ols_variances_nested(1)[0] * (chol @ chol.T) / n_conf
    assert np.all(np.abs(reported.mean(axis=0) - exact) < 4.0 * np.sqrt(var_rep)), (reported.mean(axis=0), exact)
    assert emp[0, 1] / math.sqrt(emp[0, 0] * emp[1, 1]) > 0.8


def test_nested_errors_are_the_spread_of_per_configuration_lines():
    """Exact identities: nested "spread" (and "weighted", with its fixed 1/σ²_i weights) give the
    mean of the per-configuration line fits with error² = their variance / n_c; rows in any
    order; "residual" is the per-length formula unchanged."""
    rng = np.random.default_rng(13)
    n_conf = 5
    y = 1.0 + 0.5 * L_NESTED + _nested_walks(1, n_conf, np.array([[0.2]]), seed=14)[0, ..., 0]  # (n_c, n_L)
    Ls, cfg = _nested_rows(n_conf)
    perm = rng.permutation(Ls.size)
    labels = np.array([f"c{c}" for c in cfg])[perm]
    X = np.column_stack([np.ones_like(L_NESTED), L_NESTED])
    var_i = y.var(axis=0, ddof=1) / n_conf
    for method, E in (("spread", np.linalg.solve(X.T @ X, X.T)),
                      ("weighted", np.linalg.solve(X.T @ (X / var_i[:, None]), (X / var_i[:, None]).T))):
        jf = fit_lines(Ls[perm], y.ravel()[perm], method, config=labels)
        per_conf = y @ E.T  # (n_c, 2): intercept, slope of every configuration's line
        f = jf.fits[0]
        assert jf.nested and f.method == method and f.n_configs == n_conf
        assert [f.intercept, f.slope] == pytest.approx(per_conf.mean(axis=0), rel=1e-12)
        expect = np.sqrt(per_conf.var(axis=0, ddof=1) / n_conf)
        assert [f.intercept_err, f.slope_err] == pytest.approx(expect, rel=1e-10)
        assert jf.sem[:, 0] == pytest.approx(np.sqrt(var_i), rel=1e-12)
    res_nested = fit_line(Ls[perm], y.ravel()[perm], "residual", config=labels)
    res_plain = fit_line(Ls[perm], y.ravel()[perm], "residual")
    assert res_nested.slope_err == pytest.approx(res_plain.slope_err, rel=1e-12)
    # one nested configuration: no spread to estimate, "residual" fallback as for one per length
    one = fit_line(L_NESTED, y[0], "spread", config=np.zeros(L_NESTED.size, dtype=int))
    assert one.method == "residual" and one.n_configs == 1


def _assert_identical(a, b):
    """Bitwise equality of two JointFit results (repr round-trips floats exactly, NaN included)."""
    assert repr(a.fits) == repr(b.fits)
    for name in ("slope_cov", "intercept_cov", "lengths", "means", "sem"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), name
    assert a.nested == b.nested


@pytest.mark.parametrize("method", ["spread", "weighted", "residual"])
def test_config_with_independent_structures_changes_nothing(method):
    """config=None and config with every configuration at one length only (independent
    structures) give bitwise the same fit; nested=False."""
    rng = np.random.default_rng(15)
    Ls = np.repeat(L, 4)
    Y = np.column_stack([1.0 + 0.5 * Ls, 0.2 * Ls]) + rng.standard_normal((Ls.size, 2)) * [0.3, 0.1]
    ref = fit_lines(Ls, Y, method)
    assert not ref.nested
    _assert_identical(ref, fit_lines(Ls, Y, method, config=np.arange(Ls.size)))
    _assert_identical(ref, fit_lines(Ls, Y, method, config=[f"L{x:g}-c{j % 4}" for j, x in enumerate(Ls)]))
    assert fit_line(Ls, Y[:, 0], method, config=np.arange(Ls.size)) == fit_line(Ls, Y[:, 0], method)


def test_nested_config_errors():
    Ls, cfg = _nested_rows(3)
    y = 1.0 + 0.5 * Ls + np.random.default_rng(16).standard_normal(Ls.size)
    keep = ~((cfg == 2) & (Ls >= 16)) & ~((cfg == 0) & (Ls == 2))
    with pytest.raises(ValueError, match=r"every configuration at every length.*0 lacks L = 2; 2 lacks L = 16, 20"):
        fit_line(Ls[keep], y[keep], config=cfg[keep])
    with pytest.raises(ValueError, match=r"config 1 occurs 2 times at length 4"):
        fit_line(np.append(Ls, 4.0), np.append(y, 3.0), config=np.append(cfg, 1))
    with pytest.raises(ValueError, match=r"config must hold one configuration label per row"):
        fit_line(Ls, y, config=cfg[:-1])


def test_tables_pass_config_for_nested_rows():
    """A ``nested`` column true on every row makes every fit of the group use the configurations
    as samples (single, paired ∥/⊥ and averaged-damping fits); false or absent: as before."""
    df = _synthetic_transport(noise=0.05, n_conf=4, seed=2)
    plain = summary_table(df, damping_from="average")
    pd.testing.assert_frame_equal(summary_table(df.assign(nested=False), damping_from="average"), plain)
    pd.testing.assert_frame_equal(fit_table(df.assign(nested=False)), fit_table(df))
    nested = df.assign(nested=True)
    s = summary_table(nested, damping_from="average").iloc[0]
    par = df[df["magnetization"] == "par"]
    Lm = par["L_nm"].to_numpy() * 1e-9
    ref = fit_line(Lm, par["R_ohm_m2"].to_numpy(), config=par["config"].to_numpy())
    assert s["rho_par_uohm_cm_err"] == pytest.approx(resistivity_uohm_cm(ref.slope_err), rel=1e-12)
    assert s["rho_par_uohm_cm_err"] != pytest.approx(plain.iloc[0]["rho_par_uohm_cm_err"], rel=1e-3)
    wide = df.pivot_table(index=["L_layers", "config"], columns="magnetization", values="R_ohm_m2").reset_index()
    jf = fit_lines(wide["L_layers"].to_numpy() * 0.1774e-9, wide[["par", "perp"]].to_numpy(), config=wide["config"])
    assert jf.nested
    r = resistivity_summary(resistivity_uohm_cm(jf.fits[0].slope), resistivity_uohm_cm(jf.fits[1].slope),
                            jf.slope_cov * resistivity_uohm_cm(1.0) ** 2)
    assert s["amr_err"] == pytest.approx(r["amr_err"], rel=1e-9)
    T = df.groupby(["L_layers", "config"])[["damping_T", "moment_muB"]].mean().reset_index()
    jt = fit_lines(T["L_layers"], T[["damping_T", "moment_muB"]].to_numpy(), config=T["config"])
    assert s["alpha_source"] == "average"
    assert s["dT_dL_per_layer_err"] == pytest.approx(jt.fits[0].slope_err, rel=1e-9)
    fits = fit_table(nested)
    assert (fits["n_configs"] == 4).all() and list(fits.columns) == list(fit_table(df).columns)
    with pytest.raises(ValueError, match="mixes nested and independent"):
        summary_table(df.assign(nested=df["config"] > 0))
    with pytest.raises(ValueError, match=r"config 3 lacks L = 1.774e-09"):
        summary_table(nested[~((nested["config"] == 3) & (nested["L_layers"] == 10))])
