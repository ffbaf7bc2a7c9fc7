r"""Domain-wall damping α_DW and out-of-plane torque Pβ from the scattering matrix.

A head-to-head Walker wall m(z) of width λ_w centred at r_w (:func:`tbmto.structure.domain_wall`)
sits in the slab of a lead | F | lead stack. Its only slow coordinate is r_w; translating the
wall by δr_w turns the moment of atom i by δθ_i = w_i δr_w about the wall's axis
(:func:`tbmto.structure.wall_rotation`), so the Hamiltonian derivative is on site,

.. math::  \partial H/\partial r_w = \sum_i w_i\, \partial H/\partial\theta_i
           = -\sum_i w_i\, \partial P^\alpha_i/\partial\theta_i ,

the rotation derivatives of the damping calculation (:func:`tbmto.onsite.onsite_terms`) weighted
per atom, and one wave-function-matching solve per k∥ gives S and ∂S/∂r_w
(:func:`tbmto.wfm.smatrix`). From them (Brataas, Tserkovnyak, Bauer & Kelly, *Spin pumping and
spin transfer*, arXiv:1108.0385, Sec. III B, Eqs. 71–78; Hals, Nguyen & Brataas, PRL 102,
256601 (2009)), per lateral cell of area A and averaged over k∥:

* G = (e²/h) g_T with g_T = Tr t†t (Eq. 74);
* L_ww⁻¹ = (ħ/4π) T_w with T_w = Σ_αβ Tr ∂S†_αβ/∂r_w ∂S_αβ/∂r_w (Eq. 75; T_w in Å⁻²);
* the electrons pumped into lead α per unit wall displacement,
  dn_α/dr_w = (1/2π) Π_α with Π_α = Im Σ_β Σ_mn (∂S_αβ,mn/∂r_w)* S_αβ,mn (Brouwer, PRB 58,
  R10135 (1998); with S in the e^{i(kz−ωt)} convention of :mod:`tbmto.wfm` this is the sign
  for which a reflecting barrier moved by δX pushes n δX electrons into the lead ahead of it).
  Eq. 76 is L_cw/L_ww = (e/2π) Im Σ_β Tr(∂S_αβ/∂r_w S†_αβ) = −(e/2π) Π_α;
* Eq. 78: α_DW = γ λ_w / (2 A M_s L_ww) and β = −(e λ_w/ħ P G) L_wc/L_ww, i.e. with γ = g μ_B/ħ
  and A M_s = μ_B M / L_slab (M the slab moment in μ_B, L_slab its length)

  .. math::  \alpha_{DW} = \frac{g\,\lambda_w\, T_w\, L_{slab}}{8\pi M},\qquad
             P\beta = \frac{\lambda_w\, \Pi}{g_T},

  where Π = (Π_R − Π_L)/2 is the pumped current through the wall (α = R, the lead towards
  which r_w grows; the symmetric combination removes Π_R + Π_L = −2π dN/dr_w, the Friedel
  change of the electron number in the slab, which vanishes for a wall deep inside a long
  slab). The electron charge enters squared, so the sign of e drops out; Pβ > 0 means a wall
  moving towards +z pumps electrons towards +z, the sign of Eq. 12 for P, β > 0. The seed
  reports Pβ rather than β because the polarisation P of a texture is not defined (Sec. IV B):
  G is the two-terminal conductance of the whole lead | F | lead structure (Eq. 74), and the
  cross-section A only enters α_DW through A M_s, the moment per length of the wire.

For a wide wall α_DW tends to the bulk α of the same structures with m ∥ current (seed Fig. 8):
T_w ≈ Σ_i w_i² t_i with t the damping trace per atom, Σ_i w_i² = (2/λ_w) N_layer/d.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from ase import Atoms

from .layers import kmesh as kmesh_points
from .model import MTOModel
from .observables import conductance_per_area
from .onsite import OnsiteTerms
from .parallel import kmap
from .potentials import Potentials
from .structure import REGION_SLAB, domain_wall, positive_int_pair, wall_center, wall_rotation
from .transport import DEFAULT_SOC_FORM
from .wfm import smatrix

__all__ = ["WallResult", "compute_wall"]


@dataclass
class WallResult:
    """k∥-averaged scattering-matrix response of one domain wall (module docstring).

    Attributes
    ----------
    kind : str
        ``neel``, ``rotated_neel`` or ``bloch``.
    width_angstrom, center_angstrom : float
        λ_w and r_w (Å; r_w absolute z).
    G_e2h : float
        g_T = ⟨Tr t t†⟩ (e²/h per lateral cell).
    dS_trace : float
        T_w = ⟨Σ |∂S/∂r_w|²⟩ (Å⁻²); L_ww⁻¹ = (ħ/4π) T_w.
    pumped_left, pumped_right : float
        Π_L, Π_R = ⟨Im Σ (∂S/∂r_w)* S⟩ over the rows of each lead (Å⁻¹; 2π × the electrons
        pumped into that lead per Å of wall displacement).
    moment_muB : float
        Slab moment M (μB per lateral cell).
    slab_length_angstrom : float
        L_slab (slab layers × layer spacing, Å).
    area_nm2 : float
        Lateral cell area (nm²).
    n_modes_left, n_modes_right : float
        ⟨N⟩ propagating channels of each lead (both spins).
    n_k : int
    kmesh : list of int
    kgrid, soc_form : str
    soc : bool
    energy_Ry : float
        Energy relative to E_F (Ry).
    seconds : float
        Wall time (s).
    per_k : dict
        Per k∥: ``G_e2h``, ``dS_trace``, ``pumped_left``, ``pumped_right`` (lists).
    """

    kind: str
    width_angstrom: float
    center_angstrom: float
    G_e2h: float
    dS_trace: float
    pumped_left: float
    pumped_right: float
    moment_muB: float
    slab_length_angstrom: float
    area_nm2: float
    n_modes_left: float
    n_modes_right: float
    n_k: int
    kmesh: list[int]
    kgrid: str
    soc: bool
    soc_form: str
    energy_Ry: float
    seconds: float
    per_k: dict = field(default_factory=dict)

    @property
    def pumped(self) -> float:
        """Π = (Π_R − Π_L)/2 (Å⁻¹): 2π × the electrons pumped through the wall per Å."""
        return 0.5 * (self.pumped_right - self.pumped_left)

    @property
    def friedel(self) -> float:
        """(Π_R + Π_L)/2π = −dN/dr_w (electrons per Å): the change of the slab's electron number
        with the wall position, zero for a wall far from both interfaces (translation)."""
        return (self.pumped_right + self.pumped_left) / (2.0 * math.pi)

    def alpha(self, g: float = 2.0) -> float:
        """α_DW = g λ_w T_w L_slab / (8π M) (Eq. 78; dimensionless)."""
        if not self.moment_muB > 0:
            return math.nan
        return float(g) * self.width_angstrom * self.dS_trace * self.slab_length_angstrom / (8.0 * math.pi * self.moment_muB)

    @property
    def p_beta(self) -> float:
        """Pβ = λ_w Π / g_T (Eq. 78 with Eqs. 74, 76; dimensionless)."""
        return self.width_angstrom * self.pumped / self.G_e2h if self.G_e2h > 0 else math.nan

    def row(self, g: float = 2.0) -> dict:
        """The per-configuration columns of the domain-walls table; ``f_edge`` = sech(L_slab/2λ_w),
        the profile's f at the slab ends (how much of the wall the slab cuts off)."""
        return {"alpha_dw": self.alpha(g), "p_beta": self.p_beta,
                "f_edge": float(1.0 / np.cosh(0.5 * self.slab_length_angstrom / self.width_angstrom)),
                "G_1e15": float(conductance_per_area(self.G_e2h, self.area_nm2)),
                "dS_trace_per_nm2": self.dS_trace * 100.0, "pumped_per_nm": self.pumped * 10.0,
                "friedel_per_nm": self.friedel * 10.0, "moment_muB": self.moment_muB, "area_nm2": self.area_nm2,
                "center_nm": self.center_angstrom / 10.0}

    def to_dict(self) -> dict:
        return asdict(self)


def _weighted(terms: OnsiteTerms, rate: np.ndarray) -> OnsiteTerms:
    """Terms whose θ derivatives (∂P, ∂A, ∂X) are scaled per atom by ``rate``."""
    w = rate[:, None, None]
    return dataclasses.replace(terms, **{f: w * getattr(terms, f) for f in ("dp", "da", "dx")
                                         if getattr(terms, f) is not None})


def compute_wall(atoms: Atoms, potentials: Potentials, kind: str, width: float, center: float | None = None,
                 kmesh=(8, 8), kgrid: str = "shifted", soc: bool = True, soc_form: str = DEFAULT_SOC_FORM,
                 energy_Ry: float = 0.0, comm=None, progress: bool = True) -> WallResult:
    """S and ∂S/∂r_w of a wall in the slab of ``atoms`` → :class:`WallResult` (module docstring).

    Parameters
    ----------
    atoms : ase.Atoms
        A :func:`tbmto.structure.build_stack` stack; its magnetisation is replaced by the wall.
    potentials : Potentials
    kind : {"neel", "rotated_neel", "bloch"}
    width : float
        λ_w (Å, > 0).
    center : float, optional
        r_w (Å, absolute z; default the middle of the slab).
    kmesh : (int, int)
        k∥ mesh of the lateral cell.
    kgrid : {"shifted", "gamma"}
    soc : bool
    soc_form : {"orthogonal", "screened", "exact"}
    energy_Ry : float
        Energy relative to E_F (Ry).
    comm : mpi4py communicator, optional
        k-points are distributed over its ranks (:func:`tbmto.parallel.kmap`).
    progress : bool

    Raises
    ------
    ValueError
        For an unknown wall kind, a non-positive width, or a structure without slab atoms.
    """
    n1, n2 = positive_int_pair(kmesh, "kmesh")
    t0 = time.perf_counter()
    center = wall_center(atoms, center)
    wall = domain_wall(atoms, kind, center, width)  # checks kind and width
    axis, rate = wall_rotation(atoms, kind, center, width)
    region = np.asarray(atoms.arrays["region"])
    slab = region == REGION_SLAB
    if not slab.any():
        raise ValueError("the structure has no slab atoms to hold the wall")
    base = MTOModel.build(wall, potentials, float(energy_Ry), bool(soc), soc_form, rotated=slab, axes=axis[None])
    dterms = _weighted(base.dterms[0], np.where(slab, rate, 0.0))
    model = MTOModel.from_terms(base.layered, dterms, (dterms,), axis[None])
    cell2d = model.layered.cell2d
    ks = kmesh_points(cell2d, (n1, n2), kgrid)

    def one_k(k):
        b, dh, dv = model.blocks_and_derivatives(k)
        res = smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right, dh_slab=dh[0], dv_slab=dv[0])
        pump = np.imag(np.conj(res.dS) * res.S)
        nl = res.n_left
        return (res.transmission(), float(np.sum(np.abs(res.dS) ** 2)), float(pump[:nl].sum()),
                float(pump[nl:].sum()), nl, res.n_right)

    recs = kmap(one_k, list(ks), comm=comm, progress=progress, desc=f"k-points ({kind} wall)")
    arr = np.array(recs, dtype=float)
    moments = potentials.for_atoms(atoms.get_chemical_symbols())["moment_muB"]
    layers = int(np.unique(np.asarray(atoms.arrays["layer"])[slab]).size)
    keys = ("G_e2h", "dS_trace", "pumped_left", "pumped_right")
    return WallResult(
        kind=kind, width_angstrom=float(width), center_angstrom=center,
        G_e2h=float(arr[:, 0].mean()), dS_trace=float(arr[:, 1].mean()), pumped_left=float(arr[:, 2].mean()),
        pumped_right=float(arr[:, 3].mean()), moment_muB=float(np.sum(moments[slab])),
        slab_length_angstrom=layers * float(atoms.info["layer_spacing_angstrom"]),
        area_nm2=model.layered.area_nm2,
        n_modes_left=float(arr[:, 4].mean()), n_modes_right=float(arr[:, 5].mean()), n_k=len(ks),
        kmesh=[n1, n2], kgrid=kgrid, soc=bool(soc), soc_form=soc_form if soc else "orthogonal",
        energy_Ry=float(energy_Ry), seconds=time.perf_counter() - t0,
        per_k={key: arr[:, i].tolist() for i, key in enumerate(keys)})
