"""Tidy pandas tables from transport results: per-run rows, line fits, the study summary and
the potentials.

The rows join the results on the study plan (:meth:`tbmto.config.StudyPlan.run_records`,
written to ``plan/runs.csv``): every metadata column comes from the plan — the result files
carry only the physics — and a result whose SOC switch, magnetisation or slab length disagrees
with its plan row is an error, never a silent fallback. This module does not import the config
module.

Tables (units in the column names; written as CSV and parquet by :func:`tbmto.io.write_table`):

``transport``
    One row per (system, L, configuration, magnetisation, SOC): the plan's system columns
    (system, scan, kind, composition, x, x_element, ``x_<El>`` for every element of the study,
    delta_angstrom, delta_over_a, lattice, lattice_constant_angstrom, layer_spacing_angstrom,
    direction, lead), then L_layers, L_nm, config, magnetization, soc, soc_form,
    linearisation, kgrid, nested, G_e2h, area_nm2, R_ohm_m2 (the area resistance R·A = A/G),
    damping_T, damping_T_yy, damping_T_xy, damping_T_mean, damping_k_participation, fano, moment_muB,
    n_modes_left, n_modes_right, n_k, seconds. The damping tensor G̃_ab = ⟨Re Tr ∂S†/∂θ_a ∂S/∂θ_b⟩ is given in
    the frame of the two rotation axes ⊥ m (ê₁ = ẑ × m̂, or x̂ for m ∥ ẑ; ê₂ = m̂ × ê₁):
    damping_T = G̃_xx (ê₁), damping_T_yy, damping_T_xy; damping_T_mean = (G̃_xx + G̃_yy)/2, the
    damping of a precession of m about itself (= damping_T for files without the tensor).
    damping_k_participation is the participation ratio (Σ_k T_k)²/(n_k Σ_k T_k²) of the per-k∥
    damping (:func:`tbmto.observables.k_participation`; NaN without per-k data). fano is the
    Fano factor Σ_k Tr t†t(1 − t†t)/Σ_k Tr t†t (:func:`tbmto.observables.fano_factor`): ≈ 1/3
    once the slab is diffusive, below while channels still cross it ballistically, towards 1
    when it is longer than the localisation length of its lateral cell (NaN for result files
    written before the column existed).
    ``nested`` is true when the lengths of one configuration are prefixes of one structure.
``fits``
    One row per (system, soc, quantity, magnetization) line fit: quantity ``RA_ohm_m2`` vs
    ``L_m``, ``damping_T`` (the transverse mean damping_T_mean) vs ``L_layers``,
    ``moment_muB`` vs ``L_layers``; slope, slope_err,
    intercept, intercept_err, x_variable, n_lengths, n_configs, method.
``summary``
    One row per (system, soc): the system columns, then rho_par_uohm_cm, rho_perp_uohm_cm,
    rho_avg_uohm_cm, amr, alpha (each with ``_err``), RA_interface_par_ohm_m2,
    RA_interface_perp_ohm_m2 (the L = 0 intercepts), RA_sharvin_ohm_m2 (the Sharvin term
    (A/2)(1/G_Sh,L + 1/G_Sh,R) of the leads), AR_if2_par_ohm_m2, AR_if2_perp_ohm_m2 (2AR_if = the
    intercept minus the Sharvin term, the resistance of the two interfaces; with ``_err``),
    damping_interface_T (with ``_err``), dT_dL_per_layer,
    dM_dL_muB_per_layer, alpha_source, n_lengths and L_fit_max_nm (the lengths fitted, all or
    those kept by ``fit.min_conductance_e2h``), G_e2h_min (the smallest configuration-mean G_e2h over
    the fitted lengths and magnetisations: the conductance per lateral cell and k∥, in e²/h;
    below 1 the slab is longer than the localisation length of its lateral cell and a
    :class:`tbmto.errors.LocalisationWarning` is issued), damping_k_participation_min (the
    smallest configuration-mean damping_k_participation), fano_min and fano_max (the range of the
    configuration-mean Fano factor over the fitted lengths: both near 1/3 when every fitted
    length is diffusive), and the spin-pumping prediction of the interface damping
    (:func:`pumping_table`): damping_interface_T_pumping (Σ_sides Re g↑↓ of the longest slab
    without SOC, e²/h per lateral cell, the units of damping_interface_T) and
    damping_interface_T_pumping_sharvin (with the Sharvin-corrected g̃↑↓), each with ``_err``
    (NaN without ``fit.spin_pumping``).
``interfaces``
    One row per (interface, F thickness d, configuration) of an ``interfaces:`` study
    (:func:`interfaces_table`): interface, normal, ferromagnet, lattice, direction,
    lattice_constant_angstrom, d_layers, intermixed_layers, config, then re_gmix_1e15,
    im_gmix_1e15, re_gmix_t_1e15, im_gmix_t_1e15 (left interface; ``..._right_1e15`` the right
    one), sharvin_n_1e15 (per spin), g_up_1e15, g_down_1e15 (10¹⁵ Ω⁻¹ m⁻²), n_k.
``domain_walls_configs``
    One row per (domain-wall study, wall, λ_w, configuration) (:func:`domain_walls_tables`): the
    plan's columns (domain_wall, composition, lattice, direction, lead,
    lattice_constant_angstrom, wall, lambda_nm, config, slab_layers, length_nm, soc), then
    alpha_dw, p_beta, G_1e15 (10¹⁵ Ω⁻¹ m⁻²), dS_trace_per_nm2 (⟨Tr ∂S†/∂r_w ∂S/∂r_w⟩ per
    lateral cell, nm⁻²), pumped_per_nm (2π × electrons pumped through the wall per nm),
    friedel_per_nm (−dN/dr_w of the slab, electrons per nm), moment_muB, area_nm2, center_nm,
    f_edge (sech of the distance from the wall centre to the slab ends over λ_w: how much of the
    wall the slab cuts off), alpha_bulk (the same configuration with m ∥ wire, NaN without the
    bulk reference), n_k, seconds.
``domain_walls``
    The configuration means per (domain_wall, wall, lambda_nm) with standard errors
    (``_err``, std/√n, NaN for one configuration) of alpha_dw, p_beta, G_1e15,
    dS_trace_per_nm2, pumped_per_nm, friedel_per_nm and alpha_bulk; n_configs, f_edge.
``potentials``
    One row per (system, species) from the self-consistent potential files
    (:func:`potentials_table`): the system's ``x_<El>`` columns and lattice, then role (slab or
    lead), species, concentration, site_fraction, moment_muB, charge_e (valence electrons in
    the sphere), net_charge_e, fermi_energy_Ry (absolute, of the file), linearisation, xi_p_Ry
    and xi_d_Ry (the spin–orbit parameters at the transport energy of that linearisation).

The bulk α uses the runs named by ``damping_from`` ("par", "perp" or "average": T and M
averaged over both magnetisations configuration by configuration), each run with the mean of
its own two transverse components (damping_T_mean); when those runs are absent
the available magnetisation is used and ``alpha_source`` says which.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tbmto.errors import LocalisationWarning
from tbmto.fit import alpha_from_slopes, fit_lines, resistivity_summary, resistivity_uohm_cm
from tbmto.io import read_json, read_transport

__all__ = [
    "transport_record",
    "transport_table",
    "fit_table",
    "fit_and_summary_tables",
    "summary_table",
    "potentials_table",
    "interfaces_table",
    "domain_walls_tables",
    "pumping_table",
    "sharvin_corrected_mixing",
]

_RUN_COLUMNS = ("L_layers", "config", "magnetization", "soc")
"""Plan columns that identify a run within a system (the rest of a plan row describes the
system)."""
_RESULT_COLUMNS = [
    "L_nm", "soc_form", "linearisation", "kgrid", "nested", "G_e2h", "area_nm2",
    "R_ohm_m2", "damping_T", "damping_T_yy", "damping_T_xy", "damping_T_mean", "damping_k_participation", "fano", "moment_muB",
    "n_modes_left", "n_modes_right", "n_k", "seconds",
]
_REQUIRED_PLAN_COLUMNS = ("path", "system", "scan", "kind", "x", "delta_angstrom",
                          "lattice_constant_angstrom", "layer_spacing_angstrom", "direction",
                          *_RUN_COLUMNS)
LOCALISED_G_E2H: float = 1.0
"""k-averaged conductance per lateral cell (e²/h) below which a fitted length counts as
Anderson-localised in its lateral cell (:class:`tbmto.errors.LocalisationWarning`): a
quasi-one-dimensional wire of N channels and mean free path ℓ has g ≈ Nℓ/L, and its
localisation length ξ ≈ Nℓ is reached at g ≈ 1 (Beenakker, Rev. Mod. Phys. 69, 731
(1997))."""
MIN_MOMENT_SLOPE_MUB: float = 1e-3
"""|dM/dL| (μB per layer and supercell) below which the slab counts as non-magnetic (α = NaN)."""


def _float(v) -> float:
    return math.nan if v is None else float(v)


def _transverse_mean(t_xx, t_yy):
    """(G̃_xx + G̃_yy)/2, the damping of a precession of m about itself; G̃_xx where G̃_yy is
    missing (files or tables written before the tensor existed)."""
    t_xx, t_yy = np.asarray(t_xx, dtype=float), np.asarray(t_yy, dtype=float)
    return np.where(np.isfinite(t_yy), 0.5 * (t_xx + t_yy), t_xx)


def _system_columns(columns) -> list[str]:
    """The columns of a transport table that describe the system (same on all its rows)."""
    return [c for c in columns if c not in _RUN_COLUMNS and c not in _RESULT_COLUMNS and c != "path"]


def transport_record(data: dict, plan_row: Mapping, source: str = "<dict>") -> dict:
    """One ``transport`` table row: the plan row's metadata and the result of ``data``.

    Parameters
    ----------
    data : dict
        Content of a file written by ``tbmto transport`` (``format`` = tbmto-transport/1).
    plan_row : mapping
        The run's row of the plan's runs table (:meth:`tbmto.config.StudyPlan.run_records`).
    source : str
        File name for error messages.

    Raises
    ------
    ValueError
        If a required result field is missing, or the file's SOC switch, magnetisation or slab
        length differs from the plan row.
    """
    from tbmto.observables import area_resistance_ohm_m2, fano_factor, k_participation

    inputs, res = data.get("inputs", {}), data.get("result", {})
    for key in ("G_e2h", "area_nm2", "slab_layers"):
        if key not in res:
            raise ValueError(f"{source}: result.{key} missing")
    for key in ("soc", "magnetization_label", "soc_form", "linearisation", "kgrid"):
        if key not in inputs:
            raise ValueError(f"{source}: inputs.{key} missing")
    L = int(plan_row["L_layers"])
    checks = (("soc", bool(inputs["soc"]), bool(plan_row["soc"])),
              ("magnetization", str(inputs["magnetization_label"]), str(plan_row["magnetization"])),
              ("slab length L (layers)", int(res["slab_layers"]), L))
    for what, got, want in checks:
        if got != want:
            raise ValueError(f"{source}: {what} is {got!r} in the result but {want!r} in the study "
                             "plan; the file belongs to another run (rerun it)")
    G, area = float(res["G_e2h"]), float(res["area_nm2"])
    if not G > 0:
        raise ValueError(
            f"{source}: G = {G!r} e²/h: no channel is transmitted (the leads have no propagating "
            f"state at the {res.get('n_k', '?')} k-points, or every one is reflected); use a "
            "denser transport.kmesh or a lead metal with more channels along this direction")
    t_xx, t_yy = _float(res.get("damping_T")), _float(res.get("damping_T_yy"))
    row = {k: v for k, v in plan_row.items() if k != "path"}
    row.update({
        "L_nm": L * float(plan_row["layer_spacing_angstrom"]) / 10.0,
        "soc_form": str(inputs["soc_form"]),
        "linearisation": str(inputs["linearisation"]),
        "kgrid": str(inputs["kgrid"]),
        "nested": res.get("nested_lengths") is not None,
        "G_e2h": G,
        "area_nm2": area,
        "R_ohm_m2": float(area_resistance_ohm_m2(G, area)),
        "damping_T": t_xx,
        "damping_T_yy": t_yy,
        "damping_T_xy": _float(res.get("damping_T_xy")),
        "damping_T_mean": float(_transverse_mean(t_xx, t_yy)),
        "damping_k_participation": k_participation(res.get("damping_k") or []),
        "fano": (fano_factor(res["noise_k"], res["transmission_k"]) if res.get("noise_k") else math.nan),
        "moment_muB": _float(res.get("moment_muB")),
        "n_modes_left": _float(res.get("n_modes_left")),
        "n_modes_right": _float(res.get("n_modes_right")),
        "n_k": int(res.get("n_k", 0)),
        "seconds": _float(res.get("seconds")),
    })
    return row


def transport_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The ``transport`` table: every run of the plan's runs table joined with its result file.

    Parameters
    ----------
    runs : DataFrame
        The plan's runs table (``plan/runs.csv``, :meth:`tbmto.config.StudyPlan.run_records`):
        ``path`` of each result file plus its metadata columns.

    Returns
    -------
    DataFrame
        Sorted by system, soc, magnetization, L, config.

    Raises
    ------
    FileNotFoundError
        Naming the first missing file.
    ValueError
        For a runs table without the plan's columns, a file that is not a transport result, or
        a result that does not belong to its plan row (:func:`transport_record`).
    """
    missing = [c for c in _REQUIRED_PLAN_COLUMNS if c not in runs.columns]
    if missing:
        raise ValueError(f"runs table lacks the column(s) {', '.join(missing)} of a study plan's "
                         "runs table (tbmto.config.StudyPlan.run_records)")
    if runs.empty:
        raise ValueError("no transport results given (the runs table is empty)")
    rows = [transport_record(read_transport(r["path"]), r, str(r["path"]))
            for r in runs.to_dict("records")]
    df = pd.DataFrame(rows)
    order = _system_columns(df.columns) + list(_RUN_COLUMNS) + _RESULT_COLUMNS
    df = df[order]
    return df.sort_values(["system", "soc", "magnetization", "L_layers", "config"], ignore_index=True)


def potentials_table(systems: pd.DataFrame, linearisation: str = "fermi") -> pd.DataFrame:
    """The ``potentials`` table: one row per (system, species) of the slab and lead potentials.

    Parameters
    ----------
    systems : DataFrame
        The plan's systems table (``plan/systems.csv``,
        :meth:`tbmto.config.StudyPlan.system_records`) with the ``potential`` and
        ``lead_potential`` file paths.
    linearisation : {"fermi", "band_centre"}
        Energy at which ξ_p, ξ_d are reported (:func:`tbmto.potentials.load`): that of the
        transport runs.
    """
    from tbmto.potentials import load

    keep = ["system"] + [c for c in systems.columns if c.startswith("x_") and c != "x_element"] + ["lattice"]
    rows = []
    for rec in systems.to_dict("records"):
        for role, key in (("slab", "potential"), ("lead", "lead_potential")):
            path = rec[key]
            raw = read_json(path, "potentials file")
            pots = load(path, linearisation=linearisation)
            for name, sp in pots.species.items():
                detail = raw["species"][name]
                charge = float(np.sum(sp.charges)) if sp.charges is not None else math.nan
                n_val = (sp.radial.z - sp.radial.core_electrons) if sp.radial is not None else math.nan
                rows.append({**{k: rec[k] for k in keep}, "role": role, "potential": path,
                             "species": name, "concentration": sp.concentration,
                             "site_fraction": float(detail.get("site_fraction", sp.concentration)),
                             "moment_muB": sp.moment_muB, "charge_e": charge,
                             "net_charge_e": n_val - charge,
                             "fermi_energy_Ry": float(raw["fermi_energy_Ry"]),
                             "linearisation": linearisation,
                             "xi_p_Ry": float(sp.xi[1]), "xi_d_Ry": float(sp.xi[2])})
    return pd.DataFrame(rows)


def _paired(df: pd.DataFrame, value: str, mags: Sequence[str]) -> pd.DataFrame:
    """Rows (L_layers, config) with finite ``value`` for every magnetisation in ``mags``."""
    wide = df.pivot_table(index=["L_layers", "config"], columns="magnetization", values=value, aggfunc="first")
    wide = wide.reindex(columns=list(mags))
    return wide.dropna().reset_index()


def _sharvin_ra(df: pd.DataFrame) -> float:
    """Sharvin term (A/2)(1/G_Sh,L + 1/G_Sh,R) of the two leads (Ω·m²), G_Sh = (e²/h) N with N
    the k∥-averaged channels per cell (both spins) of each lead (Schep, van Hoof, Kelly, Bauer &
    Inglesfield, PRB 56, 10805 (1997); seed Sec. IV A): subtracted from the L = 0 intercept of
    R·A(L), it leaves the interface resistance 2AR_if of the two interfaces."""
    from tbmto.observables import area_resistance_ohm_m2

    area = float(df["area_nm2"].iloc[0])
    n_l, n_r = float(df["n_modes_left"].mean()), float(df["n_modes_right"].mean())
    if not (n_l > 0 and n_r > 0):
        return math.nan
    return 0.5 * (float(area_resistance_ohm_m2(n_l, area)) + float(area_resistance_ohm_m2(n_r, area)))


def _fit_rows(df: pd.DataFrame, method: str, g: float, damping_from: str, warn: bool) -> tuple[list[dict], dict]:
    """Fit rows and summary entries for one (system, soc) group.

    When the group's rows are nested (boolean column ``nested`` true on every row: the shorter
    slabs are prefixes of one structure per configuration; absent column = not nested), every
    line fit gets the ``config`` labels, so the configurations are its independent samples
    (:func:`tbmto.fit.fit_lines`, "Nested configurations"). A group mixing nested and
    independent rows is rejected.
    """
    first = df.iloc[0]
    nested = "nested" in df.columns and bool(df["nested"].eq(True).all())
    if "nested" in df.columns and not nested and df["nested"].eq(True).any():
        raise ValueError(f"system {first['system']!r} (soc={bool(first['soc'])}) mixes nested and independent "
                         "structures; fit them separately")

    def fit(rows: pd.DataFrame, L, Y):
        """:func:`fit_lines` of ``Y`` over ``L`` for the samples ``rows`` (with their configs if nested)."""
        return fit_lines(L, Y, method, config=rows["config"].to_numpy() if nested else None)

    d_nm = float(first["L_nm"]) / float(first["L_layers"])
    mags = sorted(set(df["magnetization"]), key=lambda m: {"par": 0, "perp": 1}.get(m, 2))
    fits: list[dict] = []
    summ: dict = {k: first[k] for k in _system_columns(df.columns)}
    summ["soc"] = bool(first["soc"])

    def add_fit(quantity: str, m: str, lf, x_variable: str) -> None:
        fits.append({
            "system": first["system"], "soc": bool(first["soc"]), "quantity": quantity,
            "magnetization": m, "x_variable": x_variable, "slope": lf.slope, "slope_err": lf.slope_err,
            "intercept": lf.intercept, "intercept_err": lf.intercept_err, "n_lengths": lf.n_lengths,
            "n_configs": lf.n_configs, "method": lf.method,
        })

    # ---- resistance: R·A(L) with L in metres → ρ in Ω·m
    rho = {}
    for m in mags:
        sub = df[(df["magnetization"] == m) & np.isfinite(df["R_ohm_m2"])]
        if sub["L_layers"].nunique() < 2:
            continue
        jf = fit(sub, sub["L_layers"].to_numpy() * d_nm * 1e-9, sub["R_ohm_m2"].to_numpy())
        lf = jf.fits[0]
        add_fit("RA_ohm_m2", m, lf, "L_m")
        rho[m] = lf
    sharvin = _sharvin_ra(df)
    summ["RA_sharvin_ohm_m2"] = sharvin
    for m, key in (("par", "par"), ("perp", "perp")):
        lf = rho.get(m)
        summ[f"rho_{key}_uohm_cm"] = resistivity_uohm_cm(lf.slope) if lf else math.nan
        summ[f"rho_{key}_uohm_cm_err"] = resistivity_uohm_cm(lf.slope_err) if lf else math.nan
        summ[f"RA_interface_{key}_ohm_m2"] = lf.intercept if lf else math.nan
        summ[f"RA_interface_{key}_ohm_m2_err"] = lf.intercept_err if lf else math.nan
        # 2AR_if: the intercept without the Sharvin term of the two leads (Schep et al.)
        summ[f"AR_if2_{key}_ohm_m2"] = lf.intercept - sharvin if lf else math.nan
        summ[f"AR_if2_{key}_ohm_m2_err"] = lf.intercept_err if lf else math.nan
    summ.update(rho_avg_uohm_cm=math.nan, rho_avg_uohm_cm_err=math.nan, amr=math.nan, amr_err=math.nan)
    if "par" in rho and "perp" in rho:
        pair = _paired(df, "R_ohm_m2", ["par", "perp"])
        if pair["L_layers"].nunique() >= 2:
            jf = fit(pair, pair["L_layers"].to_numpy() * d_nm * 1e-9, pair[["par", "perp"]].to_numpy())
            cov = jf.slope_cov * resistivity_uohm_cm(1.0) ** 2
            r = resistivity_summary(resistivity_uohm_cm(jf.fits[0].slope), resistivity_uohm_cm(jf.fits[1].slope), cov)
            summ.update(rho_avg_uohm_cm=r["rho_avg"], rho_avg_uohm_cm_err=r["rho_avg_err"], amr=r["amr"], amr_err=r["amr_err"])

    # ---- damping: T(L), M(L) per layer → α
    summ.update(alpha=math.nan, alpha_err=math.nan, alpha_source="", damping_interface_T=math.nan,
                damping_interface_T_err=math.nan, dT_dL_per_layer=math.nan, dT_dL_per_layer_err=math.nan,
                dM_dL_muB_per_layer=math.nan, dM_dL_muB_per_layer_err=math.nan)
    has_t = {m for m in mags if np.isfinite(df.loc[df["magnetization"] == m, "damping_T_mean"]).all()
             and np.isfinite(df.loc[df["magnetization"] == m, "moment_muB"]).all()}
    for m in sorted(has_t):
        sub = df[df["magnetization"] == m]
        if sub["L_layers"].nunique() < 2:
            continue
        jf = fit(sub, sub["L_layers"].to_numpy(), sub[["damping_T_mean", "moment_muB"]].to_numpy())
        add_fit("damping_T", m, jf.fits[0], "L_layers")
        add_fit("moment_muB", m, jf.fits[1], "L_layers")
    source = None
    if damping_from == "average" and {"par", "perp"} <= has_t:
        source = "average"
    elif damping_from in has_t:
        source = damping_from
    elif has_t:
        source = "par" if "par" in has_t else sorted(has_t)[0]
    if source is not None:
        if source == "average":
            t = _paired(df, "damping_T_mean", ["par", "perp"])
            mm = _paired(df, "moment_muB", ["par", "perp"])
            rows = t.merge(mm, on=["L_layers", "config"], suffixes=("_T", "_M"))
            L_arr = rows["L_layers"].to_numpy()
            Y = np.column_stack([rows[["par_T", "perp_T"]].mean(axis=1), rows[["par_M", "perp_M"]].mean(axis=1)])
        else:
            rows = df[df["magnetization"] == source]
            L_arr, Y = rows["L_layers"].to_numpy(), rows[["damping_T_mean", "moment_muB"]].to_numpy()
        if np.unique(L_arr).size >= 2:
            jf = fit(rows, L_arr, Y)
            if source == "average":
                add_fit("damping_T", "average", jf.fits[0], "L_layers")
                add_fit("moment_muB", "average", jf.fits[1], "L_layers")
            fT, fM = jf.fits
            summ.update(alpha_source=source, damping_interface_T=fT.intercept, damping_interface_T_err=fT.intercept_err,
                        dT_dL_per_layer=fT.slope, dT_dL_per_layer_err=fT.slope_err,
                        dM_dL_muB_per_layer=fM.slope, dM_dL_muB_per_layer_err=fM.slope_err)
            if np.isfinite(fM.slope) and abs(fM.slope) >= MIN_MOMENT_SLOPE_MUB:
                a, a_err = alpha_from_slopes(fT.slope, fM.slope, jf.slope_cov, g)
                summ.update(alpha=a, alpha_err=a_err)
            else:  # no moment, no Gilbert damping: α is undefined, not huge
                summ.update(alpha_source=source + " (non-magnetic: alpha undefined)")
    summ.update(_regime(df, first, warn))
    summ["n_lengths"] = int(df["L_layers"].nunique())
    summ["L_fit_max_nm"] = float(df["L_nm"].max()) if "L_nm" in df.columns else math.nan
    summ["n_configs"] = int(df.groupby(["magnetization", "L_layers"])["config"].nunique().min())
    summ["fit_method"] = method
    return fits, summ


def _regime(df: pd.DataFrame, first, warn: bool) -> dict:
    """G_e2h_min, damping_k_participation_min, fano_min and fano_max (configuration means over
    the fitted lengths and magnetisations) of one (system, soc) group; with ``warn`` a
    :class:`~tbmto.errors.LocalisationWarning` when some fitted length has a configuration-mean
    G_e2h below :data:`LOCALISED_G_E2H`."""
    means = df.groupby(["magnetization", "L_layers"])["G_e2h"].mean()
    g_min = float(means.min())
    part = (float(df.groupby(["magnetization", "L_layers"])["damping_k_participation"].mean().min())
            if "damping_k_participation" in df.columns else math.nan)
    if warn and g_min < LOCALISED_G_E2H:
        lengths = sorted({int(L) for (_, L), g in means.items() if g < LOCALISED_G_E2H})
        seen = f", smallest k-participation of the damping {part:.2g}" if np.isfinite(part) else ""
        warnings.warn(
            f"system {first['system']!r} (soc={bool(first['soc'])}): at L = {lengths} layers the "
            f"conductance per lateral cell and k-point is down to G = {g_min:.3g} e^2/h (< "
            f"{LOCALISED_G_E2H:g}): the slab is longer than the localisation length of its lateral "
            f"cell, so R(L) is not Ohmic and T(L) is carried by a few resonant k-points{seen}; fit "
            "shorter geometry.lengths (or set fit.min_conductance_e2h) or use a larger "
            "geometry.supercell", LocalisationWarning, stacklevel=5)
    fano = (df.groupby(["magnetization", "L_layers"])["fano"].mean() if "fano" in df.columns
            else pd.Series([math.nan]))
    return {"G_e2h_min": g_min, "damping_k_participation_min": part,
            "fano_min": float(fano.min()), "fano_max": float(fano.max())}


_SUMMARY_RESULT_COLUMNS = [
    "soc", "n_lengths", "L_fit_max_nm", "n_configs", "fit_method",
    "rho_par_uohm_cm", "rho_par_uohm_cm_err", "rho_perp_uohm_cm", "rho_perp_uohm_cm_err",
    "rho_avg_uohm_cm", "rho_avg_uohm_cm_err", "amr", "amr_err", "alpha", "alpha_err", "alpha_source",
    "RA_interface_par_ohm_m2", "RA_interface_par_ohm_m2_err", "RA_interface_perp_ohm_m2",
    "RA_interface_perp_ohm_m2_err", "RA_sharvin_ohm_m2", "AR_if2_par_ohm_m2", "AR_if2_par_ohm_m2_err",
    "AR_if2_perp_ohm_m2", "AR_if2_perp_ohm_m2_err", "damping_interface_T", "damping_interface_T_err",
    "dT_dL_per_layer", "dT_dL_per_layer_err", "dM_dL_muB_per_layer", "dM_dL_muB_per_layer_err",
    "G_e2h_min", "damping_k_participation_min", "fano_min", "fano_max",
]
_FIT_COLUMNS = ["system", "soc", "quantity", "magnetization", "x_variable", "slope", "slope_err",
                "intercept", "intercept_err", "n_lengths", "n_configs", "method"]


def _conducting(grp: pd.DataFrame, min_conductance: float | None) -> pd.DataFrame:
    """The rows of one (system, soc) group at lengths whose configuration-mean G_e2h is at least
    ``min_conductance`` in every magnetisation (all rows for None)."""
    if min_conductance is None:
        return grp
    g = grp.groupby(["L_layers", "magnetization"])["G_e2h"].mean().groupby("L_layers").min()
    return grp[grp["L_layers"].isin(g.index[g >= min_conductance])]


def _fit_all(transport: pd.DataFrame, method: str, g: float, damping_from: str,
             min_conductance: float | None = None, warn: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    if min_conductance is not None and not (np.isfinite(min_conductance) and min_conductance > 0):
        raise ValueError(f"min_conductance must be a positive conductance in e²/h or None, got {min_conductance!r}")
    if damping_from not in ("par", "perp", "average"):
        raise ValueError(f"damping_from must be 'par', 'perp' or 'average', got {damping_from!r}")
    if not (np.isfinite(g) and g > 0):
        raise ValueError(f"g must be a positive g factor, got {g!r}")
    if "damping_T_mean" not in transport.columns:  # a table written before the damping tensor
        yy = transport["damping_T_yy"] if "damping_T_yy" in transport.columns else np.nan
        transport = transport.assign(damping_T_mean=_transverse_mean(transport["damping_T"], yy))
    fit_rows, summ_rows = [], []
    for (system, soc), grp in transport.groupby(["system", "soc"], sort=True):
        kept = _conducting(grp, min_conductance)
        if kept.empty:
            raise ValueError(f"system {system!r} (soc={bool(soc)}): no length has G_e2h >= {min_conductance:g} "
                             f"e²/h (largest {grp['G_e2h'].max():.3g}); lower fit.min_conductance_e2h or "
                             "fit shorter geometry.lengths")
        f, s = _fit_rows(kept, method, g, damping_from, warn)
        fit_rows += f
        summ_rows.append(s)
    fits = pd.DataFrame(fit_rows, columns=_FIT_COLUMNS)
    summary = pd.DataFrame(summ_rows, columns=_system_columns(transport.columns) + _SUMMARY_RESULT_COLUMNS)
    summary = summary.sort_values(["kind", "scan", "x", "delta_angstrom", "soc"], ignore_index=True)
    return fits, summary


def fit_table(transport: pd.DataFrame, method: str = "spread", g: float = 2.0, damping_from: str = "par",
              min_conductance: float | None = None) -> pd.DataFrame:
    """The ``fits`` table (line fits per system, SOC, quantity, magnetisation) from ``transport``
    (arguments as :func:`summary_table`, which also issues the localisation warnings)."""
    return _fit_all(transport, method, g, damping_from, min_conductance, warn=False)[0]


def summary_table(transport: pd.DataFrame, method: str = "spread", g: float = 2.0, damping_from: str = "par",
                  pumping: pd.DataFrame | None = None, min_conductance: float | None = None) -> pd.DataFrame:
    """The ``summary`` table (ρ∥, ρ⊥, ρ̄, AMR, α with errors and intercepts) from ``transport``.

    Parameters
    ----------
    transport : DataFrame
        The ``transport`` table (:func:`transport_table`).
    method : {"spread", "weighted", "residual"}
        Slope-error model of :func:`tbmto.fit.fit_lines`.
    g : float
        g factor in α = g (dT/dL) / (4π dM/dL).
    damping_from : {"par", "perp", "average"}
        Magnetisation runs used for α.
    pumping : DataFrame, optional
        :func:`pumping_table` of the systems' longest slabs: adds the spin-pumping prediction of
        the interface damping (NaN columns without).
    min_conductance : float, optional
        Fit each (system, soc) only over the lengths whose configuration-mean G_e2h (e²/h per
        lateral cell and k∥) is at least this in every magnetisation (``fit.min_conductance_e2h``):
        it keeps the fit within the localisation length of the lateral cell
        (:data:`LOCALISED_G_E2H`). None: every length. ``n_lengths`` and ``L_fit_max_nm`` give
        the lengths kept.

    Raises
    ------
    ValueError
        For bad settings, or a system none of whose lengths reaches ``min_conductance``.
    """
    return fit_and_summary_tables(transport, method, g, damping_from, pumping, min_conductance)[1]


def fit_and_summary_tables(transport: pd.DataFrame, method: str = "spread", g: float = 2.0,
                           damping_from: str = "par", pumping: pd.DataFrame | None = None,
                           min_conductance: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``fits`` and ``summary`` tables from one set of line fits (arguments as
    :func:`summary_table`; the localisation warnings are issued once)."""
    fits, summary = _fit_all(transport, method, g, damping_from, min_conductance)
    cols = ["damping_interface_T_pumping", "damping_interface_T_pumping_err",
            "damping_interface_T_pumping_sharvin", "damping_interface_T_pumping_sharvin_err"]
    if pumping is None or pumping.empty:
        return fits, summary.assign(**{c: math.nan for c in cols})
    agg = _means_and_errors(pumping.groupby("system"), ["T_pumping", "T_pumping_sharvin"]).drop(columns="n")
    agg.columns = cols
    return fits, summary.merge(agg.reset_index(), on="system", how="left")


def _means_and_errors(grp, columns: Sequence[str]) -> pd.DataFrame:
    """Per group of ``grp`` (a pandas GroupBy): the mean of every column and its standard error
    ``<column>_err`` = std/√n (ddof 1; NaN for one sample), and ``n``."""
    n = grp.size()
    mean, std = grp[list(columns)].mean(), grp[list(columns)].std(ddof=1)
    out = pd.DataFrame(index=n.index)
    for c in columns:
        out[c] = mean[c]
        out[f"{c}_err"] = std[c] / np.sqrt(n)
    out["n"] = n
    return out


def sharvin_corrected_mixing(g_mix: complex, n_sharvin: float) -> complex:
    """Mixing conductance of an interface to a diffuse normal metal, from the ballistic
    (Landauer–Büttiker) g↑↓ between ideal leads: 1/g̃↑↓ = 1/g↑↓ − 1/(2 N), N the Sharvin
    conductance per spin of the normal metal (all in e²/h per lateral cell; Bauer, Tserkovnyak,
    Huertas-Hernando & Brataas, PRB 67, 094421 (2003); Liu et al., PRL 113, 207202 (2014))."""
    if not n_sharvin > 0:
        raise ValueError(f"the Sharvin conductance must be positive, got {n_sharvin!r}")
    return 1.0 / (1.0 / complex(g_mix) - 1.0 / (2.0 * float(n_sharvin)))


def pumping_table(records: pd.DataFrame) -> pd.DataFrame:
    """Spin-pumping prediction of the interface damping per (system, configuration).

    Without SOC the dissipation of a rigid rotation of the slab moments is exactly
    T = Σ_sides Re(g↑↓ − g↑↓_t) (seed Eq. 69 with Eq. 79; :mod:`tbmto.mixing`); for a slab much
    thicker than the transverse spin-coherence length g↑↓_t → 0 and the interface part of T(L),
    the intercept ``damping_interface_T`` of the fit, is predicted as
    ``T_pumping`` = Re g↑↓_L + Re g↑↓_R (e²/h per lateral cell, the units of T; seed Eq. 70:
    α′ = g T_if / (4π M)). ``T_pumping_sharvin`` uses the Sharvin-corrected g̃↑↓
    (:func:`sharvin_corrected_mixing`) of a diffuse normal metal instead — what an FMR
    experiment on a film between thick diffuse Cu layers sees. Columns: system, config,
    L_layers, re_gmix_left_e2h, re_gmix_right_e2h, re_gmix_t_left_e2h, re_gmix_t_right_e2h,
    n_sharvin_left, n_sharvin_right (per spin), T_pumping, T_pumping_sharvin.

    Parameters
    ----------
    records : DataFrame
        The plan's pumping table (``plan/pumping.csv``): path, system, config, L_layers.
    """
    rows = []
    for rec in records.to_dict("records"):
        data = read_json(rec["path"], "mixing result")
        if data.get("format") != "tbmto-mixing/1":
            raise ValueError(f"{rec['path']}: not a tbmto-mixing/1 file (format={data.get('format')!r})")
        r = data["result"]
        gl, gr = complex(*r["g_mix_left"]), complex(*r["g_mix_right"])
        gtl, gtr = complex(*r["g_mix_t_left"]), complex(*r["g_mix_t_right"])
        rows.append({"system": rec["system"], "config": int(rec["config"]), "L_layers": int(rec["L_layers"]),
                     "re_gmix_left_e2h": gl.real, "re_gmix_right_e2h": gr.real, "re_gmix_t_left_e2h": gtl.real,
                     "re_gmix_t_right_e2h": gtr.real, "n_sharvin_left": r["n_left"], "n_sharvin_right": r["n_right"],
                     "T_pumping": gl.real + gr.real,
                     "T_pumping_sharvin": (sharvin_corrected_mixing(gl, r["n_left"]).real
                                           + sharvin_corrected_mixing(gr, r["n_right"]).real)})
    return pd.DataFrame(rows)


def interfaces_table(records: pd.DataFrame) -> pd.DataFrame:
    """The ``interfaces`` table: the plan's interface records joined with the mixing results.

    Parameters
    ----------
    records : DataFrame
        The plan's interfaces table (``plan/interfaces.csv``,
        :meth:`tbmto.config.StudyPlan.interface_records`): ``path`` of each ``tbmto mixing``
        result plus its metadata.

    Raises
    ------
    FileNotFoundError, ValueError
        For a missing file or one that is not a ``tbmto-mixing/1`` result.
    """
    keys = ("re_gmix_1e15", "im_gmix_1e15", "re_gmix_t_1e15", "im_gmix_t_1e15", "re_gmix_right_1e15",
            "im_gmix_right_1e15", "re_gmix_t_right_1e15", "im_gmix_t_right_1e15", "sharvin_n_1e15",
            "g_up_1e15", "g_down_1e15", "n_k")
    rows = []
    for rec in records.to_dict("records"):
        data = read_json(rec["path"], "mixing result")
        if data.get("format") != "tbmto-mixing/1":
            raise ValueError(f"{rec['path']}: not a tbmto-mixing/1 file (format={data.get('format')!r})")
        rows.append({**{k: v for k, v in rec.items() if k != "path"}, **{k: data["result"][k] for k in keys}})
    df = pd.DataFrame(rows)
    return df.sort_values(["interface", "d_layers", "config"], ignore_index=True)



def _bulk_alpha(half: str, full: str, g: float) -> float:
    """α of m ∥ wire from the uniform-rotation damping at two lengths of one configuration:
    g ΔT̄ / (4π ΔM) with T̄ the mean of the two transverse components (the difference removes
    both interfaces; a clean slab may give ΔT̄ < 0 from its length oscillations)."""
    res = [read_transport(p)["result"] for p in (half, full)]
    tbar = [0.5 * (r["damping_T"] + r.get("damping_T_yy", r["damping_T"])) for r in res]
    dm = res[1]["moment_muB"] - res[0]["moment_muB"]
    return alpha_from_slopes(tbar[1] - tbar[0], dm, np.zeros((2, 2)), g)[0] if dm > 0 else math.nan


_WALL_MEANS = ("alpha_dw", "p_beta", "G_1e15", "dS_trace_per_nm2", "pumped_per_nm", "friedel_per_nm", "alpha_bulk")


def domain_walls_tables(records: pd.DataFrame, g: float = 2.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``domain_walls`` table (configuration means) and the ``domain_walls_configs`` table.

    Parameters
    ----------
    records : DataFrame
        The plan's domain-walls table (``plan/domain_walls.csv``,
        :meth:`tbmto.config.StudyPlan.wall_records`): ``path`` of each ``tbmto wall`` result,
        the bulk-reference paths and the metadata.
    g : float
        g factor of α (seed Eq. 78).

    Returns
    -------
    (means, per_config) : tuple of DataFrame

    Raises
    ------
    FileNotFoundError, ValueError
        For a missing file or one that is not a ``tbmto-wall/1`` result.
    """
    from tbmto.walls import WallResult

    rows, bulk = [], {}
    for rec in records.to_dict("records"):
        data = read_json(rec["path"], "domain-wall result")
        if data.get("format") != "tbmto-wall/1":
            raise ValueError(f"{rec['path']}: not a tbmto-wall/1 file (format={data.get('format')!r})")
        res = WallResult(**data["result"])
        if res.kind != rec["wall"] or abs(res.width_angstrom - 10.0 * float(rec["lambda_nm"])) > 1e-9:
            raise ValueError(f"{rec['path']}: holds a {res.kind} wall of λ_w = {res.width_angstrom / 10:g} nm, "
                             f"the plan says {rec['wall']} with {rec['lambda_nm']:g} nm")
        key = (rec.get("bulk_half_path") or "", rec.get("bulk_path") or "")
        if all(isinstance(p, str) and p for p in key) and key not in bulk:
            bulk[key] = _bulk_alpha(*key, g)
        meta = {k: v for k, v in rec.items() if k not in ("path", "bulk_half_path", "bulk_path")}
        rows.append({**meta, **res.row(g), "alpha_bulk": bulk.get(key, math.nan), "n_k": res.n_k,
                     "seconds": res.seconds})
    per = pd.DataFrame(rows).sort_values(["domain_wall", "wall", "lambda_nm", "config"], ignore_index=True)
    keys = ["domain_wall", "wall", "lambda_nm"]
    first = per.groupby(keys, sort=False).first().reset_index()
    grp = per.groupby(keys, sort=False)
    out = first[[c for c in first.columns if c not in _WALL_MEANS + ("config", "n_k", "seconds", "center_nm")]]
    out = out.drop(columns=["moment_muB", "area_nm2"], errors="ignore")
    stats = _means_and_errors(grp, _WALL_MEANS)
    for c in stats.columns:
        out["n_configs" if c == "n" else c] = stats[c].to_numpy()
    return out, per
