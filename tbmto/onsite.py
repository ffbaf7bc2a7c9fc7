"""On-site blocks of the MTO secular matrix for the three spin–orbit forms.

The secular matrix of a layered structure is K = P^α(E) − S^α(k∥) (Andersen & Jepsen,
PRL 53, 2571 (1984)). Everything material-specific sits on the site diagonal; this module
builds it for every atom of a structure, with spin–orbit coupling in one of three forms
(``transport.soc_form``):

``orthogonal``
    ξ L·S (spin-averaged ξ) added inside P^γ, then screened:
    :func:`tbmto.lmto.potential_functions.onsite_p`.
``screened``
    ξ L·S to first order in the screened MTO basis:
    K = P^α − S^α − A + (P^α − S^α) X + X† (P^α − S^α)
    (:func:`tbmto.lmto.potential_functions.screened_soc_terms`; the X terms reach the
    off-site blocks and are applied by :meth:`tbmto.layers.LayeredSystem.screened_soc_blocks`).
``exact``
    the single-site problem solved exactly inside the atomic sphere — scalar-relativistic
    kinetic terms, exchange B(r) m·σ and ξ(r) L·S coupling the 2(2l+1) components of each l —
    and P^α taken from the logarithmic-derivative matrix at the sphere
    (:func:`tbmto.asa.coupled.exact_onsite_p0`), the ASA analogue of fully relativistic
    KKR-ASA single-site scattering.

Without SOC the three forms coincide by construction: the scalar P^α(E) of the potential
parameters (with the default Fermi-level linearisation, the exact scalar potential function
at E_F) is used whatever ``soc_form`` says.

Derivatives: ∂/∂θ for a rigid rotation of the moments of the selected atoms by θ about an
axis (∂H/∂θ = −∂K/∂θ enters the damping, Starikov et al., PRB 97, 214415 (2018), Eqs. 9–11).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tbmto.lmto.harmonics import l_of_index
from tbmto.lmto.potential_functions import onsite_p, onsite_p_dtheta, screened_soc_terms
from tbmto.lmto.structure_constants import SCREENING_ALPHA, _check_alpha
from tbmto.potentials import Potentials

__all__ = ["SOC_FORMS", "OnsiteTerms", "onsite_terms", "exact_onsite_palpha"]

SOC_FORMS = ("orthogonal", "screened", "exact")
"""Allowed ``soc_form`` values (``transport.soc_form``)."""

_L9 = l_of_index(2)


@dataclass(frozen=True)
class OnsiteTerms:
    """Per-atom on-site blocks (natoms, 18, 18), index 9σ + L (σ along the global z).

    Attributes
    ----------
    p : ndarray
        P^α(E) on the site diagonal of K. For ``screened`` this is the scalar (no-SOC) P^α;
        the SOC enters through ``a`` and ``x``.
    dp : ndarray or None
        ∂P^α/∂θ (zero for atoms that are not rotated); None without an axis.
    a, x, da, dx : ndarray or None
        ``screened`` only: A, X and their θ derivatives (see
        :class:`tbmto.lmto.potential_functions.SocTerms`); None otherwise.
    soc_form : str
        The form used (``orthogonal`` whenever SOC is off).
    """

    p: np.ndarray
    dp: np.ndarray | None = None
    a: np.ndarray | None = None
    x: np.ndarray | None = None
    da: np.ndarray | None = None
    dx: np.ndarray | None = None
    soc_form: str = "orthogonal"


def exact_onsite_palpha(potentials: Potentials, species: str, energy: float, m: np.ndarray,
                        axis: np.ndarray | None = None, alpha=SCREENING_ALPHA):
    """Exact on-site P^α(E) (and ∂P^α/∂θ) of one species for a batch of directions.

    P^α = P⁰ (1 − α P⁰)⁻¹ and ∂P^α = (1 − P⁰ α)⁻¹ ∂P⁰ (1 − α P⁰)⁻¹ from the exact unscreened
    P⁰ of :func:`tbmto.asa.coupled.exact_onsite_p0`, α = diag(α_l) on both spins.

    Parameters
    ----------
    potentials : Potentials
        Must hold the spherical potential of ``species`` (a file from ``tbmto scf``).
    species : str
        Element symbol.
    energy : float
        Energy relative to the species' E_F (Ry).
    m : ndarray (k, 3)
        Unit magnetisation directions.
    axis : ndarray (k, 3) or (3,), optional
        Rotation axis for ∂/∂θ.
    alpha : sequence of 3 floats
        Screening constants.

    Returns
    -------
    p : ndarray (k, 18, 18)
    dp : ndarray (k, 18, 18) or None
    """
    from tbmto.asa.coupled import exact_onsite_p0

    sp = potentials.species[species]
    if sp.radial is None:
        raise ValueError(
            f"species {species!r} ({sp.source}) has parameters only; soc_form 'exact' needs the "
            "spherical potential of a file from `tbmto scf`")
    a18 = np.tile(_check_alpha(alpha)[_L9], 2)
    m = np.asarray(m, float)
    out = exact_onsite_p0(sp.radial.mesh, sp.radial.v, float(energy), m, soc=True, axis=axis)
    p0, dp0 = out if axis is not None else (out, None)
    bmat = np.eye(18)[None] - a18[None, :, None] * p0  # 1 − α P⁰
    # P^α = P⁰ B⁻¹: solve Bᵀ Yᵀ = P⁰ᵀ
    pa = np.linalg.solve(bmat.transpose(0, 2, 1), p0.transpose(0, 2, 1)).transpose(0, 2, 1)
    pa = 0.5 * (pa + pa.conj().transpose(0, 2, 1))
    if dp0 is None:
        return pa, None
    # (1 − P⁰α)⁻¹ dP⁰ (1 − αP⁰)⁻¹ with 1 − P⁰α = B†
    left = np.linalg.solve(bmat.conj().transpose(0, 2, 1), dp0)
    dpa = np.linalg.solve(bmat.transpose(0, 2, 1), left.transpose(0, 2, 1)).transpose(0, 2, 1)
    return pa, 0.5 * (dpa + dpa.conj().transpose(0, 2, 1))


def _exact_terms(potentials, symbols, m, energy, rotated, axis, alpha):
    """Exact P^α for every atom, one radial solve per distinct (species, direction); ∂P^α/∂θ
    only for the rotated atoms."""
    nat = len(symbols)
    p = np.zeros((nat, 18, 18), complex)
    dp = None if axis is None else np.zeros_like(p)
    symbols = np.asarray(symbols)
    need_d = np.zeros(nat, bool) if axis is None else rotated
    for name in sorted(set(symbols.tolist())):
        for with_d in (False, True):
            idx = np.flatnonzero((symbols == name) & (need_d == with_d))
            if idx.size == 0:
                continue
            _, first, inv = np.unique(np.round(m[idx], 12), axis=0, return_index=True,
                                      return_inverse=True)
            pa, dpa = exact_onsite_palpha(potentials, name, energy, m[idx[first]],
                                          axis if with_d else None, alpha)
            p[idx] = pa[inv.ravel()]
            if with_d:
                dp[idx] = dpa[inv.ravel()]
    return p, dp


def onsite_terms(potentials: Potentials, symbols: Sequence[str], m: np.ndarray, energy: float,
                 soc: bool = True, soc_form: str = "orthogonal", rotated: np.ndarray | None = None,
                 axis: np.ndarray | None = None, alpha=SCREENING_ALPHA) -> OnsiteTerms:
    """On-site blocks of every atom for one SOC form (module docstring).

    Parameters
    ----------
    potentials : Potentials
        From :func:`tbmto.potentials.load` (its linearisation decides C, Δ, γ, ξ).
    symbols : sequence of str
        Chemical symbol per atom.
    m : ndarray (natoms, 3)
        Unit magnetisation directions.
    energy : float
        Energy relative to E_F (Ry).
    soc : bool
        Include spin–orbit coupling.
    soc_form : {"orthogonal", "screened", "exact"}
        Form of the spin–orbit term.
    rotated : ndarray of bool (natoms,), optional
        Atoms whose moments rotate for the θ derivatives (with ``axis``).
    axis : ndarray (3,), optional
        Unit rotation axis; with it the θ derivatives are returned.
    alpha : sequence of 3 floats
        Screening constants.

    Returns
    -------
    OnsiteTerms
    """
    if soc_form not in SOC_FORMS:
        raise ValueError(f"soc_form must be one of {list(SOC_FORMS)}, got {soc_form!r}")
    symbols = list(symbols)
    m = np.asarray(m, float)
    if m.shape != (len(symbols), 3):
        raise ValueError(f"m must have shape ({len(symbols)}, 3), got {m.shape}")
    if axis is not None:
        rotated = (np.ones(len(symbols), bool) if rotated is None
                   else np.asarray(rotated, bool))
        if rotated.shape != (len(symbols),):
            raise ValueError(f"rotated must have shape ({len(symbols)},), got {rotated.shape}")
    form = soc_form if soc else "orthogonal"
    par = potentials.for_atoms(symbols)
    args = (par["C"], par["sqrt_delta"], par["gamma"], par["xi"], m)
    sl = None if axis is None else np.flatnonzero(rotated)

    def scalar_or_orthogonal(with_soc: bool):
        p = onsite_p(float(energy), *args, alpha=alpha, soc=with_soc)
        if axis is None:
            return p, None
        dp = np.zeros_like(p)
        dp[sl] = onsite_p_dtheta(float(energy), *(x[sl] for x in args), axis=axis, alpha=alpha,
                                 soc=with_soc)
        return p, dp

    if form == "orthogonal":
        p, dp = scalar_or_orthogonal(bool(soc))
        return OnsiteTerms(p=p, dp=dp, soc_form=form)
    if form == "exact":
        p, dp = _exact_terms(potentials, symbols, m, energy, rotated, axis, alpha)
        return OnsiteTerms(p=p, dp=dp, soc_form=form)
    # screened
    p, dp = scalar_or_orthogonal(False)
    names, idx = par["names"], par["index"]
    table = [potentials.species[s] for s in names]
    missing = [s for s, sp in zip(names, table) if sp.xi_dot is None or sp.e_nu is None]
    if missing:
        raise ValueError(f"species {missing} lack the radial SOC integrals needed by soc_form "
                         "'screened' (parameter-only file); use a file from `tbmto scf`")

    def stack(attr):
        return np.stack([getattr(sp, attr) for sp in table])[idx]

    terms = screened_soc_terms(par["C"], par["sqrt_delta"], par["gamma"], stack("e_nu"),
                               stack("xi_spin"), stack("xi_dot"), m,
                               axis=None if axis is None else axis, alpha=alpha)
    da = dx = None
    if axis is not None:
        da = np.where(rotated[:, None, None], terms.da, 0.0)
        dx = np.where(rotated[:, None, None], terms.dx, 0.0)
    return OnsiteTerms(p=p, dp=dp, a=terms.a, x=terms.x, da=da, dx=dx, soc_form=form)
