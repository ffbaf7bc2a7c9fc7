"""Linear fits of R(L)·A and T(L), M(L) over slab lengths with configuration-spread errors.

Seed Sec. IV: R(L) = 1/G(L) = 1/G_Sh + 2 R_if + ρ L for L large enough, so the bulk resistivity
is the slope ρ = d(RA)/dL and the intercept is the interface (plus Sharvin) resistance; the
damping G̃(L) = G̃_if + α γ μ_s A L gives α from a slope, here (Brataas, Tserkovnyak, Bauer & Kelly, *Spin pumping and spin transfer*, arXiv:1108.0385, Eqs. 69–70)
α = g (dT/dL) / (4π dM/dL) with T(L) = <Re Tr ∂S†/∂θ ∂S/∂θ>_k and M(L) the moment of the slab
supercell in μB; the intercept T(0) is the interface (spin-pumping) damping.

Error model
-----------
Several observables measured on the *same* samples (e.g. R·A for m ∥ and m ⊥ on the same
disordered structures) are fitted together by :func:`fit_lines`. At every length L_i the
configurations give the mean ȳ_i and the sample covariance C_i (ddof = 1) of the observables;
Σ_i = C_i / n_i is the covariance of the mean. The line is fitted to the means with a linear
estimator (slope, intercept) = E ȳ, and the covariance of all slopes/intercepts is propagated
exactly, cov(p_a, q_b) = Σ_i E_a[p, i] E_b[q, i] Σ_i[a, b], so correlated observables (ρ∥ and
ρ⊥ from the same structures) get correlated errors and derived quantities (ρ̄, AMR, α) are
propagated with the full covariance. Methods:

``"spread"`` (default)
    E = ordinary least squares on the means; errors from the configuration spread Σ_i. The
    variance estimate is unbiased for any number of configurations ≥ 2.
``"weighted"``
    E = weighted least squares with weights 1/σ²_i (σ²_i = diag Σ_i of that observable; an
    observable with a vanishing spread at some length is fitted unweighted); the slope error is
    the textbook sqrt[(XᵀWX)⁻¹]₁₁. With few configurations the sampled weights
    make this error too small (≈ 35 % low for 3 configurations, ≈ 20 % for 5, ≈ 10 % for 10;
    see tests/test_fit.py), which is why ``"spread"`` is the default.
``"residual"``
    E = ordinary least squares on the means, Σ_i = RᵀR/(n_L − 2) from the residuals R of all
    observables (needs ≥ 3 lengths).

``"spread"`` and ``"weighted"`` fall back to ``"residual"`` when a length has fewer than 2
configurations or all configuration spreads vanish (no disorder); the method actually used is
reported. With only 2 lengths and no spread the errors are NaN.

Nested configurations
---------------------
The resistivity and damping come from the slopes of configuration-averaged R(L)·A and T(L)
over slab lengths (Starikov et al., PRB 97, 214415 (2018); Brataas et al., arXiv:1108.0385).
The error model above assumes that every (L_i, configuration) sample is an independent
disordered structure. In *nested* data one structure is built per configuration c for the
longest length and the shorter slabs are its first L_i layers, so y_c(L_i) and y_c(L_j) share
the disorder of the first min(L_i, L_j) layers and the interface with the left lead: R(L)·A of
nested slabs is a cumulative sum of layer increments (a random walk, cov ∝ min(L_i, L_j)), and
the values of one configuration at different lengths are strongly correlated. Only different
configurations are independent draws of the disorder, so they — not the (L, configuration)
rows — are the samples. Pass ``config`` to :func:`fit_lines`; when a configuration label
occurs at two or more lengths the noise is the full covariance of the means across lengths and
observables,

    Σ_{(i,a),(j,b)} = cov_c(y_{c,i,a}, y_{c,j,b}) / n_c        (ddof = 1, units of y_a · y_b),

every configuration must be present at every length (n_c configurations), and

    cov(p_a, q_b) = Σ_{i,j} E_a[p, i] E_b[q, j] Σ_{(i,a),(j,b)}.

With ``"spread"`` the fitted line is the mean of the per-configuration least-squares lines and
its variance estimate is their spread over n_c, so (ŝ − s)/σ_ŝ follows Student's t with
n_c − 1 degrees of freedom for Gaussian disorder (tests/test_fit.py checks the coverage). The
per-length Σ_i ignores the cross-length covariance and misstates the errors of nested data,
too small or too large depending on the lengths and on how much of the spread is shared by all
prefixes (e.g. the left interface): for a random walk over layers 2, 4, 6, 8, 12, 16, 20 it
understates the slope error by ≈ 11 % (tests/test_fit.py). ``"weighted"`` keeps the
diagonal weights 1/σ²_i of the per-length spreads (the estimator E) but propagates the errors
with the full covariance. ``"residual"`` is unchanged: it treats the residuals of the means as
independent across lengths, ignores the cross-length correlation and is not calibrated for
nested data. A nested fit needs ≥ 2 configurations for ``"spread"``/``"weighted"`` (else the
``"residual"`` fallback above) and reports ``JointFit.nested``; ``LineFit.n_configs`` is then
the number of configurations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "METHODS",
    "LineFit",
    "JointFit",
    "fit_lines",
    "fit_line",
    "resistivity_uohm_cm",
    "resistivity_summary",
    "alpha_from_slopes",
]

METHODS: tuple[str, ...] = ("spread", "weighted", "residual")
"""Allowed slope-error models of :func:`fit_lines`."""

OHM_M_TO_UOHM_CM: float = 1.0e8
"""1 Ω·m = 1e8 μΩ·cm."""


@dataclass(frozen=True)
class LineFit:
    """Straight-line fit y = intercept + slope · L of one observable.

    Attributes
    ----------
    slope, slope_err : float
        Slope and its standard error (units of y per unit of L).
    intercept, intercept_err : float
        Value at L = 0 and its standard error (units of y).
    n_lengths : int
        Number of distinct lengths.
    n_configs : int
        Number of independent configurations: with nested data (``JointFit.nested``) the number
        of configurations, each present at every length; otherwise the smallest number of
        configurations at any length.
    method : str
        Error model actually used (see the module docstring).
    """

    slope: float
    slope_err: float
    intercept: float
    intercept_err: float
    n_lengths: int
    n_configs: int
    method: str

    def __call__(self, L):
        """Fitted line evaluated at L."""
        return self.intercept + self.slope * np.asarray(L, dtype=float)


@dataclass(frozen=True)
class JointFit:
    """Simultaneous straight-line fits of k observables measured on the same samples.

    Attributes
    ----------
    fits : tuple of LineFit
        One fit per observable (column of ``Y`` in :func:`fit_lines`).
    slope_cov : ndarray, shape (k, k)
        Covariance matrix of the k slopes.
    intercept_cov : ndarray, shape (k, k)
        Covariance matrix of the k intercepts.
    lengths : ndarray, shape (n_L,)
        The distinct lengths (sorted).
    means : ndarray, shape (n_L, k)
        Configuration means at each length.
    sem : ndarray, shape (n_L, k)
        Standard errors of the means at each length (NaN with one configuration).
    nested : bool
        True when the configurations were the independent samples (``config`` given and some
        configuration at two or more lengths); the covariances then include the cross-length
        correlation (module docstring, "Nested configurations").
    """

    fits: tuple[LineFit, ...]
    slope_cov: np.ndarray
    intercept_cov: np.ndarray
    lengths: np.ndarray
    means: np.ndarray
    sem: np.ndarray
    nested: bool = False


def _estimator(X: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Rows (intercept, slope) of the (weighted) least-squares estimator, shape (2, n)."""
    if w is None:
        return np.linalg.solve(X.T @ X, X.T)
    Xw = X * w[:, None]
    return np.linalg.solve(X.T @ Xw, Xw.T)


def _by_configuration(Lu: np.ndarray, inverse: np.ndarray, Y: np.ndarray, config) -> np.ndarray | None:
    """Samples of nested data arranged by configuration, or None for independent structures.

    Parameters
    ----------
    Lu : ndarray, shape (n_L,)
        Distinct lengths (sorted), in the unit of ``L``.
    inverse : ndarray of int, shape (n,)
        Length index of every row.
    Y : ndarray, shape (n, k)
        Observables of every row.
    config : array_like, shape (n,)
        Configuration label of every row (hashable and mutually comparable, e.g. int or str).

    Returns
    -------
    ndarray, shape (n_c, n_L, k) or None
        ``Y`` of configuration c at length L_i, when some configuration occurs at two or more
        lengths (nested data); None when every configuration occurs at exactly one length.

    Raises
    ------
    ValueError
        If ``config`` is not one label per row, or for nested data in which a configuration
        lacks a length or occurs twice at one length.
    """
    n = inverse.size
    labels = np.asarray(config)
    if labels.ndim > 1 and not isinstance(config, np.ndarray):  # a sequence of tuples as labels
        labels = np.fromiter(config, dtype=object)
    if labels.shape != (n,):
        raise ValueError(f"config must hold one configuration label per row of Y ({n} rows), "
                         f"got shape {labels.shape}")
    try:
        names, code = np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"config labels must be mutually comparable (e.g. all int or all str): {exc}") from None
    names = names.tolist()  # plain Python labels for the messages
    cells = np.zeros((len(names), Lu.size), dtype=int)
    np.add.at(cells, (code, inverse), 1)
    if not np.any(np.count_nonzero(cells, axis=1) >= 2):
        return None
    if np.any(cells > 1):
        c, i = np.argwhere(cells > 1)[0]
        raise ValueError(f"config {names[c]!r} occurs {cells[c, i]} times at length {Lu[i]:g}; "
                         "nested data need one row per (configuration, length)")
    missing = [f"{names[c]!r} lacks L = {', '.join(f'{x:g}' for x in Lu[cells[c] == 0])}"
               for c in np.flatnonzero(np.any(cells == 0, axis=1))]
    if missing:
        raise ValueError("nested data need every configuration at every length (the configurations are the "
                         f"independent samples): config {'; '.join(missing)}")
    out = np.empty((len(names), Lu.size, Y.shape[1]))
    out[code, inverse] = Y
    return out


def fit_lines(L, Y, method: str = "spread", config=None) -> JointFit:
    """Fit y_a(L) = b_a + s_a L for k observables with configuration-spread errors.

    Parameters
    ----------
    L : array_like, shape (n,)
        Length of every sample (any unit; slopes are per that unit). At least 2 distinct.
    Y : array_like, shape (n,) or (n, k)
        Observables of every sample (one row per configuration at its length; all columns of a
        row come from the same configuration). Must be finite.
    method : {"spread", "weighted", "residual"}
        Error model (module docstring).
    config : array_like, shape (n,), optional
        Configuration label of every row (hashable, mutually comparable: int, str, ...). When
        some label occurs at two or more lengths the data are *nested* (shorter slabs are
        prefixes of the structure of the longest one): the configurations are the independent
        samples, each must be present exactly once at every length, and the errors use the full
        covariance of the means across lengths and observables (module docstring, "Nested
        configurations"). When every label occurs at one length only, or ``config`` is None,
        the rows are independent structures and ``config`` changes nothing.

    Returns
    -------
    JointFit

    Raises
    ------
    ValueError
        For an unknown method, mismatched shapes (of ``Y`` or ``config``), non-finite values,
        fewer than 2 lengths, or nested data in which a configuration lacks a length.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    L = np.asarray(L, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if L.ndim != 1 or Y.ndim != 2 or Y.shape[0] != L.shape[0]:
        raise ValueError(f"L must have shape (n,) and Y shape (n,) or (n, k); got {L.shape} and {Y.shape}")
    if not (np.all(np.isfinite(L)) and np.all(np.isfinite(Y))):
        raise ValueError("L and Y must be finite (drop missing samples before fitting)")
    Lu, inverse = np.unique(L, return_inverse=True)
    nL, k = Lu.size, Y.shape[1]
    if nL < 2:
        raise ValueError(f"need at least 2 distinct lengths for a line, got {Lu.tolist()}")
    Yc = None if config is None else _by_configuration(Lu, inverse, Y, config)
    full = None  # (nL, k, nL, k) covariance of the means, nested data only
    if Yc is None:
        counts = np.bincount(inverse, minlength=nL)
        means = np.stack([Y[inverse == i].mean(axis=0) for i in range(nL)])
        cov_mean = np.full((nL, k, k), np.nan)
        for i in range(nL):
            rows = Y[inverse == i]
            if counts[i] >= 2:
                cov_mean[i] = np.atleast_2d(np.cov(rows, rowvar=False, ddof=1)) / counts[i]
    else:
        n_c = Yc.shape[0]
        counts = np.full(nL, n_c)
        means = Yc.mean(axis=0)
        full = np.full((nL, k, nL, k), np.nan)
        if n_c >= 2:
            dev = Yc - means
            full = np.einsum("cia,cjb->iajb", dev, dev) / ((n_c - 1) * n_c)
        cov_mean = np.einsum("iaib->iab", full)
    var_mean = np.diagonal(cov_mean, axis1=1, axis2=2)  # (nL, k)
    sem = np.sqrt(var_mean)

    X = np.column_stack([np.ones(nL), Lu])
    used = method
    if used in ("spread", "weighted") and (np.any(counts < 2) or np.all(var_mean == 0.0)):
        used = "residual"

    if used == "weighted":
        # an observable without spread at some length (e.g. a moment fixed by the composition)
        # is fitted unweighted; its error then comes from the spreads that do exist
        E = np.stack([
            _estimator(X, 1.0 / var_mean[:, a]) if np.all(var_mean[:, a] > 0.0) else _estimator(X, None)
            for a in range(k)
        ])  # (k, 2, nL)
    else:
        E = np.broadcast_to(_estimator(X, None), (k, 2, nL))
    params = np.einsum("api,ia->ap", E, means)  # (k, 2): intercept, slope

    if used == "residual":
        if nL > 2:
            R = means - np.einsum("ip,ap->ia", X, params)
            S = (R.T @ R) / (nL - 2)
        else:
            S = np.full((k, k), np.nan)
        # cov(p_a, q_b) = Σ_i E_a[p, i] E_b[q, i] S[a, b]
        pcov = np.einsum("api,bqi,iab->apbq", E, E, np.broadcast_to(S, (nL, k, k)))
    elif full is None:
        # cov(p_a, q_b) = Σ_i E_a[p, i] E_b[q, i] Σ_i[a, b]
        pcov = np.einsum("api,bqi,iab->apbq", E, E, cov_mean)
    else:
        # cov(p_a, q_b) = Σ_ij E_a[p, i] E_b[q, j] Σ_(i,a),(j,b)
        pcov = np.einsum("api,bqj,iajb->apbq", E, E, full)
    slope_cov = pcov[:, 1, :, 1]
    intercept_cov = pcov[:, 0, :, 0]

    fits = tuple(
        LineFit(
            slope=float(params[a, 1]),
            slope_err=float(math.sqrt(slope_cov[a, a])) if np.isfinite(slope_cov[a, a]) else math.nan,
            intercept=float(params[a, 0]),
            intercept_err=float(math.sqrt(intercept_cov[a, a])) if np.isfinite(intercept_cov[a, a]) else math.nan,
            n_lengths=int(nL),
            n_configs=int(counts.min()),
            method=used,
        )
        for a in range(k)
    )
    return JointFit(fits, np.array(slope_cov), np.array(intercept_cov), Lu, means, sem, nested=Yc is not None)


def fit_line(L, y, method: str = "spread", config=None) -> LineFit:
    """Fit one observable y(L) = intercept + slope·L (see :func:`fit_lines`; ``config`` labels the
    configuration of every sample, for nested data)."""
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    return fit_lines(L, y, method, config).fits[0]


def resistivity_uohm_cm(slope_ohm_m: float) -> float:
    """Resistivity in μΩ·cm from the slope d(R·A)/dL in Ω·m²/m = Ω·m (1 Ω·m = 1e8 μΩ·cm)."""
    return float(slope_ohm_m) * OHM_M_TO_UOHM_CM


def resistivity_summary(rho_par: float, rho_perp: float, cov) -> dict[str, float]:
    """ρ̄ = (ρ∥ + 2ρ⊥)/3 and AMR = (ρ∥ − ρ⊥)/ρ̄ with linearly propagated errors (seed Sec. IV).

    Parameters
    ----------
    rho_par, rho_perp : float
        Resistivities for m parallel and perpendicular to the current (any common unit).
    cov : array_like, shape (2, 2)
        Covariance of (ρ∥, ρ⊥) in that unit squared (off-diagonal from shared structures).

    Returns
    -------
    dict
        ``rho_avg``, ``rho_avg_err`` (same unit), ``amr``, ``amr_err`` (dimensionless ratio).
    """
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (2, 2):
        raise ValueError(f"cov must be a 2x2 covariance of (rho_par, rho_perp), got shape {cov.shape}")
    rho_avg = (rho_par + 2.0 * rho_perp) / 3.0
    j_avg = np.array([1.0 / 3.0, 2.0 / 3.0])
    amr = (rho_par - rho_perp) / rho_avg
    # d AMR/d rho_par = (rho_avg - (rho_par - rho_perp)/3) / rho_avg^2 = rho_perp / rho_avg^2
    # d AMR/d rho_perp = (-rho_avg - 2 (rho_par - rho_perp)/3) / rho_avg^2 = -rho_par / rho_avg^2
    j_amr = np.array([rho_perp, -rho_par]) / rho_avg**2
    return {
        "rho_avg": float(rho_avg),
        "rho_avg_err": float(math.sqrt(max(j_avg @ cov @ j_avg, 0.0))),
        "amr": float(amr),
        "amr_err": float(math.sqrt(max(j_amr @ cov @ j_amr, 0.0))),
    }


def alpha_from_slopes(dT_dL: float, dM_dL: float, cov, g: float = 2.0) -> tuple[float, float]:
    """Bulk Gilbert damping α = g (dT/dL) / (4π dM/dL) and its propagated error (Brataas et al.,
    arXiv:1108.0385, Eqs. 69–70).

    Energy balance (seed Eqs. 66–70) gives α(L) = g T(L) / (4π M(L)) for a slab with total
    moment M(L) in μB; the bulk value follows from the slopes of T(L) and M(L) with the same
    length unit.

    Parameters
    ----------
    dT_dL : float
        Slope of T(L) = <Re Tr ∂S†/∂θ ∂S/∂θ>_k (dimensionless per unit length).
    dM_dL : float
        Slope of the slab moment M(L) in μB per unit length (≠ 0).
    cov : array_like, shape (2, 2)
        Covariance of (dT/dL, dM/dL).
    g : float
        Electron g factor.

    Returns
    -------
    (float, float)
        α and its standard error.
    """
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (2, 2):
        raise ValueError(f"cov must be a 2x2 covariance of (dT/dL, dM/dL), got shape {cov.shape}")
    if dM_dL == 0.0 or not np.isfinite(dM_dL):
        raise ValueError(f"dM_dL must be finite and non-zero (a magnetic slab), got {dM_dL!r}")
    alpha = g * dT_dL / (4.0 * math.pi * dM_dL)
    jac = np.array([g / (4.0 * math.pi * dM_dL), -alpha / dM_dL])
    return float(alpha), float(math.sqrt(max(jac @ cov @ jac, 0.0)))
