"""Figures of a study from its tables (matplotlib, Agg backend; PNG + PDF).

Figure kinds (:data:`FIGURES`), each a pure function of the tables returning a Figure:

``fit_resistance``  R·A versus L (nm) per system: every configuration (small dots), the
                    configuration mean ± standard error, and the fitted line (seed Fig. 4 inset).
``fit_damping``     T(L) = <Re Tr ∂S†/∂θ ∂S/∂θ>_k versus L (layers), same layout (Fig. 5 inset).
``fano_length``     shot-noise Fano factor F versus L (nm) per system, the diffusive 1/3 marked:
                    below it channels still cross the slab ballistically, above it the slab is
                    longer than the localisation length of its lateral cell.
``rho_x``           ρ̄ (or ρ∥/ρ⊥) versus the scanned fraction x (of the scan's ``x_element``, e.g.
                    Fe in Ni(1−x)Fe(x), Co in Fe(1−x)Co(x)) with and without SOC (Fig. 4).
``amr_x``           AMR (%) versus x (SOC runs).
``alpha_x``         Gilbert damping α versus x (Fig. 5).
``rho_delta``       ρ versus Δ/a for thermal scans (Fig. 6).
``alpha_delta``     α versus Δ/a for thermal scans (Fig. 6).
``gmix_d``          spin-mixing conductances versus the F thickness of an ``interfaces:`` study
                    (:data:`INTERFACE_FIGURES`, from the interfaces table).
``alpha_dw``        effective Gilbert damping α_DW of each wall type versus λ_w, the bulk α of the
                    same structures (m ∥ wire) dashed (seed Fig. 8; :data:`WALL_FIGURES`, from
                    the domain-walls table).
``pbeta_dw``        out-of-plane torque parameter Pβ of each wall type versus λ_w (seed Fig. 9).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

__all__ = ["FIGURES", "INTERFACE_FIGURES", "WALL_FIGURES", "make_figure", "save_figure"]

_SOC_STYLE = {True: dict(ls="-", marker="o"), False: dict(ls="-.", marker="s", mfc="none")}
_M_COLOR = {"par": "C0", "perp": "C3", "average": "C2"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(n: int):
    plt = _plt()
    ncols = min(4, max(1, n))
    nrows = int(math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _soc_label(soc: bool) -> str:
    return "SOC" if soc else "no SOC"


def _configuration_points(ax, grp: pd.DataFrame, x_col: str, value: str, y_scale: float, m: str, soc: bool) -> None:
    """Every configuration (small dots) and the configuration mean ± standard error of
    ``value`` versus ``x_col`` for one (magnetisation, SOC) group."""
    color, style = _M_COLOR.get(m, "k"), _SOC_STYLE[bool(soc)]
    ax.plot(grp[x_col], grp[value] * y_scale, ".", color=color, alpha=0.35, ms=4)
    stats = grp.groupby(x_col)[value].agg(["mean", "std", "count"]).reset_index()
    sem = (stats["std"] / np.sqrt(stats["count"])).fillna(0.0)
    ax.errorbar(stats[x_col], stats["mean"] * y_scale, yerr=sem * y_scale, fmt=style["marker"],
                color=color, mfc=style.get("mfc", color), capsize=3, label=f"m {m}, {_soc_label(bool(soc))}")


def _fit_figure(transport: pd.DataFrame, fits: pd.DataFrame, value: str, quantity: str,
                x_col: str, x_scale: float, y_scale: float, xlabel: str, ylabel: str):
    systems = list(dict.fromkeys(transport["system"]))
    fig, axes = _grid(len(systems))
    for ax, system in zip(axes, systems):
        sub = transport[transport["system"] == system]
        for (m, soc), grp in sub.groupby(["magnetization", "soc"], sort=True):
            grp = grp[np.isfinite(grp[value])]
            if grp.empty:
                continue
            color = _M_COLOR.get(m, "k")
            style = _SOC_STYLE[bool(soc)]
            _configuration_points(ax, grp, x_col, value, y_scale, m, soc)
            row = fits[(fits["system"] == system) & (fits["quantity"] == quantity)
                       & (fits["magnetization"] == m) & (fits["soc"] == bool(soc))]
            if not row.empty:
                r = row.iloc[0]
                xs = np.linspace(0.0, float(grp[x_col].max()) * 1.05, 50)
                ax.plot(xs, (r["intercept"] + r["slope"] * xs * x_scale) * y_scale, ls=style["ls"], color=color, lw=1)
        ax.set_title(system, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_xlim(left=0.0)
    if axes:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def fit_resistance(transport: pd.DataFrame, fits: pd.DataFrame, summary: pd.DataFrame):
    """R·A (fΩ·m²) versus L (nm) with configuration points, means ± s.e.m. and the fits."""
    return _fit_figure(transport, fits, "R_ohm_m2", "RA_ohm_m2", "L_nm", 1e-9, 1e15,
                       "L (nm)", r"$R\,A$ (f$\Omega\,$m$^2$)")


def fit_damping(transport: pd.DataFrame, fits: pd.DataFrame, summary: pd.DataFrame):
    """Damping T(L) = (G̃_xx + G̃_yy)/2 (the transverse mean, as fitted for α) versus L (layers) with
    configuration points, means ± s.e.m. and the fits."""
    value = "damping_T_mean" if "damping_T_mean" in transport.columns else "damping_T"
    return _fit_figure(transport, fits, value, "damping_T", "L_layers", 1.0, 1.0, "L (atomic layers)",
                       r"$T = \frac{1}{2}\sum_{a=x,y} \langle \mathrm{Re\,Tr}\,\partial_a S^\dagger \partial_a S\rangle$")


def _scan_plot(summary: pd.DataFrame, kind: str, xcol: str, series, xlabel: str, ylabel: str, scale: float = 1.0):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    sub = summary[summary["kind"] == kind].sort_values(xcol)
    for (scan, soc), grp in sub.groupby(["scan", "soc"], sort=True):
        style = _SOC_STYLE[bool(soc)]
        for col, label, color in series:
            if col not in grp or not np.isfinite(grp[col]).any():
                continue
            ax.errorbar(grp[xcol], grp[col] * scale, yerr=grp[col + "_err"].fillna(0.0) * scale,
                        ls=style["ls"], marker=style["marker"], mfc=style.get("mfc", color), color=color,
                        capsize=3, label=f"{scan} {label}, {_soc_label(bool(soc))}".replace("  ", " "))
    ax.set_xlabel(xlabel(sub) if callable(xlabel) else xlabel)
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _rho_series(summary: pd.DataFrame):
    if np.isfinite(summary["rho_avg_uohm_cm"]).any():
        return [("rho_avg_uohm_cm", r"$\bar\rho$", "k"), ("rho_par_uohm_cm", r"$\rho_\parallel$", "C0"),
                ("rho_perp_uohm_cm", r"$\rho_\perp$", "C3")]
    return [("rho_par_uohm_cm", r"$\rho_\parallel$", "C0"), ("rho_perp_uohm_cm", r"$\rho_\perp$", "C3")]


def _x_label(sub: pd.DataFrame) -> str:
    """x-axis label of the alloy scans: the fraction of the scanned element(s)."""
    els = [e for e in dict.fromkeys(sub.get("x_element", pd.Series(dtype=str)).dropna()) if e]
    return f"{' / '.join(els)} fraction x" if els else "fraction x"


def rho_x(transport, fits, summary):
    """ρ̄, ρ∥, ρ⊥ (μΩ·cm) versus x with (solid) and without (dash-dot) SOC."""
    return _scan_plot(summary, "alloy", "x", _rho_series(summary), _x_label, r"$\rho$ ($\mu\Omega\,$cm)")


def amr_x(transport, fits, summary):
    """AMR (%) versus x."""
    return _scan_plot(summary, "alloy", "x", [("amr", "AMR", "C2")], _x_label, "AMR (%)", 100.0)


def alpha_x(transport, fits, summary):
    """Gilbert damping α versus x."""
    return _scan_plot(summary, "alloy", "x", [("alpha", r"$\alpha$", "C4")], _x_label, r"Gilbert damping $\alpha$")


def rho_delta(transport, fits, summary):
    """ρ (μΩ·cm) versus Δ/a for thermal scans."""
    return _scan_plot(summary, "thermal", "delta_over_a", _rho_series(summary), r"$\Delta / a$", r"$\rho$ ($\mu\Omega\,$cm)")


def alpha_delta(transport, fits, summary):
    """Gilbert damping α versus Δ/a for thermal scans."""
    return _scan_plot(summary, "thermal", "delta_over_a", [("alpha", r"$\alpha$", "C4")], r"$\Delta / a$", r"Gilbert damping $\alpha$")


def gmix_d(interfaces: pd.DataFrame):
    """Re and Im of the reflection and transmission mixing conductances (10¹⁵ Ω⁻¹ m⁻², left
    interface) versus the F thickness d, one panel per interface, the Sharvin conductance per
    spin of the normal metal dotted (configuration means ± standard error)."""
    names = list(dict.fromkeys(interfaces["interface"]))
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names):
        sub = interfaces[interfaces["interface"] == name]
        for col, label, style in (("re_gmix_1e15", r"Re $G^{\uparrow\downarrow}$", "o-"),
                                  ("im_gmix_1e15", r"Im $G^{\uparrow\downarrow}$", "s-"),
                                  ("re_gmix_t_1e15", r"Re $G_t^{\uparrow\downarrow}$", "^--"),
                                  ("im_gmix_t_1e15", r"Im $G_t^{\uparrow\downarrow}$", "v--")):
            grp = sub.groupby("d_layers")[col]
            n = grp.count()
            err = (grp.std(ddof=1) / np.sqrt(n)).fillna(0.0)
            ax.errorbar(grp.mean().index, grp.mean(), yerr=err, fmt=style, ms=4, capsize=2, label=label)
        ax.axhline(float(sub["sharvin_n_1e15"].mean()), color="k", lw=0.8, ls=":", label="Sharvin / spin")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("F thickness d (layers)")
        ax.set_ylabel(r"$10^{15}\ \Omega^{-1}\mathrm{m}^{-2}$")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


INTERFACE_FIGURES = {"gmix_d": gmix_d}
"""Figure kind → function(interfaces table) → matplotlib Figure."""

_WALL_STYLE = {"neel": ("o-", "Néel"), "rotated_neel": ("s--", "rotated Néel"), "bloch": ("^-.", "Bloch")}


def _wall_figure(walls: pd.DataFrame, col: str, ylabel: str, bulk: bool):
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    names = list(dict.fromkeys(walls["domain_wall"]))
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names):
        sub = walls[walls["domain_wall"] == name]
        for wall, grp in sub.groupby("wall", sort=False):
            fmt, label = _WALL_STYLE[wall]
            ax.errorbar(grp["lambda_nm"], grp[col], yerr=grp[f"{col}_err"].fillna(0.0), fmt=fmt, ms=4,
                        capsize=2, label=label)
        if bulk and np.isfinite(sub["alpha_bulk"]).any():
            ab = sub.groupby("wall")["alpha_bulk"].mean()
            m, e = float(ab.mean()), float(sub["alpha_bulk_err"].max())
            ax.axhline(m, color="k", ls="--", lw=0.9, label=r"bulk, $m \parallel$ wire")
            if np.isfinite(e):
                ax.axhspan(m - e, m + e, color="k", alpha=0.1, lw=0)
        ax.set_xscale("log")
        ax.set_xticks(sorted(sub["lambda_nm"].unique()))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(r"wall width $\lambda_w$ (nm)")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def alpha_dw(walls: pd.DataFrame):
    """Effective domain-wall Gilbert damping α_DW (Eq. 78) versus λ_w per wall type
    (configuration means ± standard error), the bulk α of the same structures dashed (seed Fig. 8)."""
    return _wall_figure(walls, "alpha_dw", r"Gilbert damping $\alpha_{DW}$", bulk=True)


def pbeta_dw(walls: pd.DataFrame):
    """Out-of-plane spin-torque parameter Pβ (Eq. 78) versus λ_w per wall type (seed Fig. 9)."""
    return _wall_figure(walls, "p_beta", r"$P\beta$", bulk=False)


WALL_FIGURES = {"alpha_dw": alpha_dw, "pbeta_dw": pbeta_dw}
"""Figure kind → function(domain-walls table) → matplotlib Figure."""


def fano_length(transport: pd.DataFrame, fits: pd.DataFrame, summary: pd.DataFrame):
    """Fano factor F = Σ_k Tr t†t(1 − t†t)/Σ_k Tr t†t versus L (nm) per system: configuration
    points, means ± s.e.m., the diffusive value 1/3 (Beenakker & Büttiker, PRB 46, 1889 (1992))
    dashed. Panels are empty for tables written before the ``fano`` column."""
    from tbmto.observables import FANO_DIFFUSIVE

    systems = list(dict.fromkeys(transport["system"]))
    fig, axes = _grid(len(systems))
    if "fano" not in transport.columns:
        transport = transport.assign(fano=np.nan)
    for ax, system in zip(axes, systems):
        sub = transport[transport["system"] == system]
        for (m, soc), grp in sub.groupby(["magnetization", "soc"], sort=True):
            grp = grp[np.isfinite(grp["fano"])]
            if not grp.empty:
                _configuration_points(ax, grp, "L_nm", "fano", 1.0, m, soc)
        ax.axhline(FANO_DIFFUSIVE, color="0.4", ls="--", lw=1, label="diffusive, 1/3")
        ax.set_title(system, fontsize=9)
        ax.set_xlabel("L (nm)")
        ax.set_ylabel("Fano factor $F$")
        ax.set_xlim(left=0.0)
        ax.set_ylim(0.0, max(0.5, float(np.nanmax(sub["fano"], initial=0.0)) * 1.1))
    if axes:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


FIGURES = {
    "fit_resistance": fit_resistance,
    "fit_damping": fit_damping,
    "fano_length": fano_length,
    "rho_x": rho_x,
    "amr_x": amr_x,
    "alpha_x": alpha_x,
    "rho_delta": rho_delta,
    "alpha_delta": alpha_delta,
}
"""Figure kind → function(transport, fits, summary) → matplotlib Figure."""


def make_figure(kind: str, transport: pd.DataFrame, fits: pd.DataFrame, summary: pd.DataFrame):
    """Figure ``kind`` (a key of :data:`FIGURES`) from the three study tables."""
    if kind not in FIGURES:
        raise ValueError(f"unknown figure kind {kind!r}; allowed: {', '.join(FIGURES)}")
    return FIGURES[kind](transport, fits, summary)


def save_figure(fig, stem: str | os.PathLike) -> list[str]:
    """Save ``fig`` as ``<stem>.png`` (150 dpi) and ``<stem>.pdf`` atomically; close it."""
    from tbmto.io import atomic_write

    plt = _plt()
    stem = os.fspath(stem)
    out = []
    try:
        for ext in ("png", "pdf"):
            atomic_write(f"{stem}.{ext}", lambda tmp, ext=ext: fig.savefig(tmp, format=ext, dpi=150))
            out.append(f"{stem}.{ext}")
    finally:
        plt.close(fig)
    return out
