"""Lead | slab | lead structures for the transport calculations (ase, lengths in Å).

An fcc or bcc crystal is stacked along the transport direction +z as a sequence of atomic layers
(fcc unless ``lattice="bcc"``):

* ``direction="001"``: cubic axes x = [100], y = [010], z = [001]; square in-plane primitive
  cell a₁ = (a/2, a/2, 0), a₂ = (−a/2, a/2, 0) (|a₁| = a/√2), layer spacing d = a/2, ABAB
  stacking with the in-plane offset δ = (a₁ + a₂)/2 between consecutive layers.
* ``direction="111"``: x ∥ [1−10], y ∥ [11−2], z ∥ [111]; hexagonal in-plane primitive cell
  a₁ = (a/√2)(1, 0, 0), a₂ = (a/√2)(−1/2, √3/2, 0), layer spacing d = a/√3, ABC stacking
  with δ = (a₁ + 2a₂)/3.

* bcc ``direction="001"``: x = [100], y = [010]; square in-plane cell a₁ = (a, 0, 0),
  a₂ = (0, a, 0), d = a/2, δ = (a₁ + a₂)/2 (the body centre).
* bcc ``direction="110"``: x ∥ [001], y ∥ [1−10], z ∥ [110]; centred-rectangular (110) plane
  with a₁ = a[001] = (a, 0, 0), a₂ = (a/2)[1−11] = (a/2, a/√2, 0), d = a/√2, δ = a₁/2
  (the translation (a/2)[111] between neighbouring (110) planes).

In every case layer ℓ+1 is layer ℓ translated by t = δ + d ẑ (modulo in-plane lattice vectors,
positions are wrapped into the lateral cell). A lateral m × n supercell of the primitive
in-plane cell is used; the lateral area A = |A₁ × A₂| with A₁ = m a₁, A₂ = n a₂.

The atoms are ordered layer by layer (left lead buffer, slab, right lead buffer), inside a
layer by (i₁, i₂) of the supercell in C order. Per-atom arrays:

``magmom_dir``  (N, 3) unit magnetisation directions (lab frame; stored for every atom),
``layer``       atomic-layer index, 0 = first slab layer, negative in the left buffer,
``region``      0 left lead buffer, 1 slab, 2 right lead buffer,
``ideal_positions`` (N, 3) undisplaced lattice sites (Å); they fix the S^α neighbour lists
                so that the pair set does not change with frozen thermal displacements.

Disorder (Brataas, Tserkovnyak, Bauer & Kelly, *Spin pumping and spin transfer*, arXiv:1108.0385,
Sec. IV A): exactly round(x·N) = floor(x·N + ½) atoms of every minority species are distributed
uniformly at random over the N slab sites, and frozen thermal disorder displaces every slab atom by
u with each Cartesian component drawn from N(0, Δ²/3) so that Δ = sqrt(<|u|²>). Random numbers
come from ``numpy.random.SeedSequence`` seeded by a pure function of (seed, system, L, config)
(:func:`slab_rng`), never by Python's salted ``hash``.

Nested lengths (``build_stack(..., nested_lengths=(L₁, …, Lₙ))`` with Lₙ = L): one configuration
serves every length L₁ < … < Lₙ. The slab is cut into the increments [0, L₁), [L₁, L₂), …,
[Lₙ₋₁, Lₙ) of atomic layers; each increment gets its own occupation (the exact-count rule above on
its N_inc sites, so every increment holds the concentration to within one atom) and its own
displacements, from generators that depend only on (seed, system, increment start, increment end,
config) (:func:`increment_rng`). The stack of length Lᵢ is then the prefix of the longest one:
:func:`truncate` keeps the first Lᵢ slab layers and moves the right buffer down by (Lₙ − Lᵢ)
layer translations t, and the result equals ``build_stack(layers=Lᵢ, nested_lengths=(L₁, …, Lᵢ))``.
Appending a longer length later leaves the shorter prefixes unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Mapping, Sequence

import numpy as np
from ase import Atoms

from tbmto.composition import check_composition, species_counts
from tbmto.materials import atomic_number

__all__ = [
    "layer_spacing",
    "DIRECTIONS",
    "REGION_LEFT",
    "REGION_SLAB",
    "REGION_RIGHT",
    "lateral_cell",
    "layer_translation",
    "build_stack",
    "truncate",
    "WALL_KINDS",
    "wall_rotation",
    "wall_center",
    "set_magnetization",
    "domain_wall",
    "walker_profile",
    "slab_rng",
    "increment_rng",
]

DIRECTIONS: tuple[str, ...] = ("001", "111")
"""Allowed transport directions of the fcc stack."""

LATTICE_DIRECTIONS: dict[str, tuple[str, ...]] = {"fcc": DIRECTIONS, "bcc": ("001", "110")}
"""Allowed transport directions per cubic lattice."""

REGION_LEFT, REGION_SLAB, REGION_RIGHT = 0, 1, 2

def _wrap_unit(frac: np.ndarray) -> np.ndarray:
    """Fractional coordinates wrapped into [0, 1), values within ``isclose`` of 1 set to 0."""
    out = np.mod(frac, 1.0)
    out[np.isclose(out, 1.0)] = 0.0
    return out


def _primitive(direction: str, a: float, lattice: str = "fcc") -> tuple[np.ndarray, np.ndarray, float]:
    """In-plane primitive vectors (2, 3), fractional stacking offset (2,), layer spacing (Å)."""
    if lattice == "bcc":
        if direction == "001":  # square a × a, layer spacing a/2, body centre above the middle
            return np.array([[a, 0.0, 0.0], [0.0, a, 0.0]]), np.array([0.5, 0.5]), a / 2
        if direction == "110":  # x ∥ [001], y ∥ [1−10], z ∥ [110]: a₁ = a[001], a₂ = (a/2)[1−11]
            cell = np.array([[a, 0.0, 0.0], [a / 2, a / math.sqrt(2.0), 0.0]])
            return cell, np.array([0.5, 0.0]), a / math.sqrt(2.0)
        raise ValueError(f"direction must be one of {LATTICE_DIRECTIONS['bcc']} for bcc, got {direction!r}")
    if direction == "001":
        cell = np.array([[a / 2, a / 2, 0.0], [-a / 2, a / 2, 0.0]])
        return cell, np.array([0.5, 0.5]), a / 2
    if direction == "111":
        s = a / math.sqrt(2.0)
        cell = np.array([[s, 0.0, 0.0], [-s / 2, s * math.sqrt(3.0) / 2, 0.0]])
        return cell, np.array([1.0 / 3.0, 2.0 / 3.0]), a / math.sqrt(3.0)
    raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def _check_direction(direction: str, lattice: str = "fcc") -> str:
    if lattice not in LATTICE_DIRECTIONS:
        raise ValueError(f"lattice must be one of {list(LATTICE_DIRECTIONS)}, got {lattice!r}")
    direction = str(direction)
    if direction not in LATTICE_DIRECTIONS[lattice]:
        raise ValueError(f"direction must be one of {LATTICE_DIRECTIONS[lattice]} for {lattice}, got {direction!r}")
    return direction


def positive_int_pair(value: Sequence[int], name: str) -> tuple[int, int]:
    """``value`` as a pair of positive ints; ValueError naming ``name`` otherwise."""
    try:
        m, n = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair of positive integers, got {value!r}") from None
    for v in (m, n):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a pair of positive integers, got {value!r}")
    return int(m), int(n)


def lateral_cell(direction: str, lattice_constant: float, supercell: Sequence[int] = (1, 1),
                 lattice: str = "fcc") -> np.ndarray:
    """Lateral supercell vectors of the stack.

    Parameters
    ----------
    direction : str
        Transport direction: fcc "001" | "111", bcc "001" | "110".
    lattice_constant : float
        Cubic lattice constant a (Å).
    supercell : (int, int)
        Multiples (m, n) of the primitive in-plane vectors.
    lattice : {"fcc", "bcc"}
        Cubic lattice.

    Returns
    -------
    numpy.ndarray
        (2, 3) rows A₁ = m a₁, A₂ = n a₂ in Å.
    """
    direction = _check_direction(direction, lattice)
    m, n = positive_int_pair(supercell, "supercell")
    if not lattice_constant > 0:
        raise ValueError(f"lattice_constant must be > 0 Å, got {lattice_constant!r}")
    cell, _, _ = _primitive(direction, float(lattice_constant), lattice)
    return cell * np.array([[m], [n]], dtype=float)


def layer_translation(direction: str, lattice_constant: float, lattice: str = "fcc") -> np.ndarray:
    """Translation t = δ + d ẑ (Å) mapping atomic layer ℓ onto layer ℓ + 1 of the ideal crystal."""
    direction = _check_direction(direction, lattice)
    cell, frac, d = _primitive(direction, float(lattice_constant), lattice)
    t = frac @ cell
    t[2] = d
    return t


def _stable_hash(text: str) -> int:
    """64-bit integer from SHA-256 of ``text`` (stable across processes, unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def _system_name(system: str | None, composition: Mapping[str, float]) -> str:
    if system is not None:
        return str(system)
    return "".join(f"{el}{composition[el]:.6g}" for el in sorted(composition))


def slab_rng(seed: int, system: str, layers: int, config: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent random generators for alloy occupation and displacements.

    Both derive from ``SeedSequence([seed, sha256(system), layers, config])`` (spawned into two
    children), so the occupation does not change when only Δ changes and the streams are
    reproducible on any machine.

    Returns
    -------
    (numpy.random.Generator, numpy.random.Generator)
        Generator for the site occupation and generator for the displacements.
    """
    ss = np.random.SeedSequence([int(seed), _stable_hash(system), int(layers), int(config)])
    occ, disp = ss.spawn(2)
    return np.random.default_rng(occ), np.random.default_rng(disp)


_INCREMENT_TAG = _stable_hash("tbmto.structure.increment_rng")
"""Last SeedSequence entropy word of :func:`increment_rng` (keeps its streams apart from slab_rng's)."""


def increment_rng(
    seed: int, system: str, start: int, end: int, config: int
) -> tuple[np.random.Generator, np.random.Generator]:
    """Random generators for the slab increment [start, end) of a nested-length stack.

    Both derive from ``SeedSequence([seed, sha256(system), start, end, config, tag])`` (spawned
    into two children), where the constant ``tag`` keeps these streams distinct from those of
    :func:`slab_rng`. They depend only on the increment itself, never on the other lengths, so
    appending a longer length does not change the shorter prefixes, and the occupation does not
    change when only Δ changes (disorder model: Brataas, Tserkovnyak, Bauer & Kelly, *Spin
    pumping and spin transfer*, arXiv:1108.0385, Sec. IV A).

    Parameters
    ----------
    seed, config : int
        Study seed and disorder-configuration index (≥ 0).
    system : str
        System label (``atoms.info["system"]``).
    start, end : int
        First and one-past-last atomic slab layer of the increment (0 ≤ start < end).

    Returns
    -------
    (numpy.random.Generator, numpy.random.Generator)
        Generator for the site occupation and generator for the displacements of the increment.
    """
    ss = np.random.SeedSequence(
        [int(seed), _stable_hash(system), int(start), int(end), int(config), _INCREMENT_TAG]
    )
    occ, disp = ss.spawn(2)
    return np.random.default_rng(occ), np.random.default_rng(disp)


def _check_nested_lengths(value: Sequence[int], layers: int) -> list[int]:
    """``value`` as a list of strictly increasing positive ints ending with ``layers``."""
    allowed = f"a strictly increasing sequence of positive integers ending with layers={layers}"
    if isinstance(value, (str, bytes, Mapping)):
        raise ValueError(f"nested_lengths must be {allowed}, got {value!r}")
    try:
        lengths = list(value)
    except TypeError:
        raise ValueError(f"nested_lengths must be {allowed}, got {value!r}") from None
    if not lengths:
        raise ValueError(f"nested_lengths must be {allowed}, got the empty {value!r}")
    for v in lengths:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"nested_lengths must be {allowed}, got {value!r} (entry {v!r})")
    lengths = [int(v) for v in lengths]
    if any(b <= a for a, b in zip(lengths, lengths[1:])):
        raise ValueError(f"nested_lengths must be {allowed}, got {value!r} (not strictly increasing)")
    if lengths[-1] != layers:
        raise ValueError(f"nested_lengths must be {allowed}, got {value!r} (last entry != {layers})")
    return lengths


def _check_element(symbol: str, name: str) -> None:
    try:
        atomic_number(symbol)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _occupation(comp: dict[str, float], n_sites: int, rng: np.random.Generator) -> list[str]:
    """Exact counts of :func:`tbmto.composition.species_counts` (floor(x N + ½) of every
    minority species, the majority on the rest) on a random permutation of the sites."""
    counts = species_counts(comp, n_sites)
    order = sorted(comp, key=lambda el: (-comp[el], el))
    symbols = np.array([order[0]] * n_sites, dtype=object)
    perm = rng.permutation(n_sites)
    start = 0
    for el in order[1:]:
        symbols[perm[start:start + counts[el]]] = el
        start += counts[el]
    return [str(s) for s in symbols]


def layer_spacing(direction: str, lattice_constant: float, lattice: str = "fcc") -> float:
    """Interlayer spacing d (Å) along the transport direction: fcc [001] a/2, [111] a/√3;
    bcc [001] a/2, [110] a/√2."""
    return float(_primitive(_check_direction(direction, lattice), float(lattice_constant), lattice)[2])


def _unit(m: Sequence[float], name: str = "magnetization") -> np.ndarray:
    v = np.asarray(m, dtype=float)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be a finite 3-vector, got {m!r}")
    norm = float(np.linalg.norm(v))
    if norm < 1e-12:
        raise ValueError(f"{name} must be non-zero, got {m!r}")
    return v / norm


def build_stack(
    direction: str = "001",
    supercell: Sequence[int] = (3, 3),
    layers: int = 10,
    lattice_constant: float = 3.548,
    lead: str = "Cu",
    composition: Mapping[str, float] | None = None,
    delta: float = 0.0,
    seed: int = 0,
    config: int = 0,
    magnetization: Sequence[float] = (0.0, 0.0, 1.0),
    lead_layers: int = 4,
    system: str | None = None,
    nested_lengths: Sequence[int] | None = None,
    lattice: str = "fcc",
    intermixed_layers: int = 0,
) -> Atoms:
    """Build a lead | slab | lead fcc or bcc stack along +z.

    Parameters
    ----------
    direction : str
        Transport direction: fcc "001" | "111", bcc "001" | "110" (see the module docstring
        for the lab frame).
    supercell : (int, int)
        Lateral m × n supercell of the primitive in-plane cell.
    layers : int
        Number L ≥ 1 of atomic layers in the slab.
    lattice_constant : float
        Cubic lattice constant a in Å, shared by slab and leads (e.g.
        :func:`tbmto.materials.vegard_lattice_constant` of the composition).
    lead : str
        Element of the ideal lead and of the buffer layers.
    composition : mapping, optional
        Slab composition {element: fraction} with any number of species, fractions summing to
        1 (:func:`tbmto.composition.check_composition`; zero fractions dropped). Default
        {"Ni": 0.8, "Fe": 0.2}. Pure metals: {"Ni": 1.0}.
    delta : float
        RMS displacement Δ = sqrt(<|u|²>) of the slab atoms in Å (frozen thermal disorder,
        seed Sec. IV A); each Cartesian component ~ N(0, Δ²/3). Leads stay ideal.
    seed, config : int
        Study seed and disorder-configuration index (≥ 0).
    magnetization : 3-vector
        Uniform magnetisation direction stored in ``magmom_dir`` (normalised).
    lead_layers : int
        Ideal lead atomic layers (≥ 0) kept on each side of the slab inside the structure.
    system : str, optional
        System label entering the random seed (default: built from the composition).
    nested_lengths : sequence of int, optional
        Slab lengths L₁ < … < Lₙ = ``layers`` (atomic layers) that this one configuration serves
        (see the module docstring). The alloy occupation and displacements are drawn per
        increment [Lᵢ₋₁, Lᵢ) (L₀ = 0) with :func:`increment_rng`, each increment holding exactly
        floor(x N_inc + ½) atoms of every minority species on its N_inc sites (disorder model:
        Brataas, Tserkovnyak, Bauer & Kelly, arXiv:1108.0385, Sec. IV A), so that
        ``truncate(atoms, Lᵢ)`` is the stack of length Lᵢ. None (default): the whole slab is one
        draw from :func:`slab_rng`, as without this option.
    lattice : {"fcc", "bcc"}
        Cubic lattice of slab, buffers and leads (one lattice constant for all).
    intermixed_layers : int
        Interface intermixing: the first and the last ``intermixed_layers`` slab layers are a
        50/50 random alloy of the lead and the slab composition (exact counts per layer, drawn
        with their own generator, :func:`slab_rng` of ``system + ":intermixed"``); 0 (default):
        sharp interfaces. Not with ``nested_lengths``.

    Returns
    -------
    ase.Atoms
        cell = (A₁, A₂, (L + 2 lead_layers) d ẑ), pbc = (True, True, False); arrays
        ``magmom_dir``, ``layer``, ``region``, ``ideal_positions``; ``info`` with direction, supercell,
        lattice_constant_angstrom, layer_spacing_angstrom, cell2d, layer_translation_angstrom,
        delta_angstrom, seed, config, composition, lead, lead_layers, system, n_slab_atoms,
        slab_layers and, only for a nested stack, nested_lengths (list of int; the key is absent
        when ``nested_lengths`` is None).

    Raises
    ------
    ValueError
        For layers < 1, a bad supercell, an unknown direction or element, a composition not
        summing to 1, delta < 0, negative lead_layers/seed/config, a zero magnetisation or
        nested_lengths that are not strictly increasing positive ints ending with ``layers``.
    """
    direction = _check_direction(direction, lattice)
    m, n = positive_int_pair(supercell, "supercell")
    if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or layers < 1:
        raise ValueError(f"layers must be an integer >= 1, got {layers!r}")
    if isinstance(lead_layers, bool) or not isinstance(lead_layers, (int, np.integer)) or lead_layers < 0:
        raise ValueError(f"lead_layers must be an integer >= 0, got {lead_layers!r}")
    for name, v in (("seed", seed), ("config", config)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    if not (isinstance(lattice_constant, (int, float, np.floating)) and lattice_constant > 0):
        raise ValueError(f"lattice_constant must be > 0 Å, got {lattice_constant!r}")
    if not (isinstance(delta, (int, float, np.floating)) and np.isfinite(delta) and delta >= 0):
        raise ValueError(f"delta must be a finite RMS displacement >= 0 Å, got {delta!r}")
    _check_element(lead, "lead")
    if isinstance(intermixed_layers, bool) or not isinstance(intermixed_layers, (int, np.integer)) \
            or intermixed_layers < 0 or 2 * intermixed_layers > layers:
        raise ValueError(f"intermixed_layers must be an integer in [0, layers/2], got {intermixed_layers!r}")
    if intermixed_layers and nested_lengths is not None:
        raise ValueError("intermixed_layers is not available for nested stacks (nested_lengths)")
    try:
        comp = check_composition({"Ni": 0.8, "Fe": 0.2} if composition is None else composition)
    except ValueError as exc:
        raise ValueError(f"composition: {exc}") from None
    mvec = _unit(magnetization)
    layers, lead_layers = int(layers), int(lead_layers)
    lengths = None if nested_lengths is None else _check_nested_lengths(nested_lengths, layers)
    a = float(lattice_constant)
    sysname = _system_name(system, comp)

    prim, frac, d = _primitive(direction, a, lattice)
    cell2d = prim * np.array([[m], [n]], dtype=float)
    i1, i2 = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    grid = np.stack([i1.ravel(), i2.ravel()], axis=1).astype(float)  # (m n, 2)
    n_lat = m * n

    ell = np.arange(-lead_layers, layers + lead_layers)
    # fractional in-plane offset of layer ℓ: ℓ·frac wrapped into [0, 1)
    off = _wrap_unit(np.outer(ell, frac))  # (nlayers, 2)
    fr = grid[None, :, :] + off[:, None, :]  # (nlayers, n_lat, 2)
    pos = np.einsum("lak,kx->lax", fr, prim)
    pos[:, :, 2] = ((ell + lead_layers) * d)[:, None]
    pos = pos.reshape(-1, 3)
    layer_idx = np.repeat(ell, n_lat)
    region = np.where(layer_idx < 0, REGION_LEFT, np.where(layer_idx >= layers, REGION_RIGHT, REGION_SLAB))

    n_slab = int((region == REGION_SLAB).sum())
    # disorder blocks [start, end) of slab layers with their (occupation, displacement) generators
    if lengths is None:
        blocks = [(0, layers, slab_rng(seed, sysname, layers, config))]
    else:
        starts = [0, *lengths[:-1]]
        blocks = [(s, e, increment_rng(seed, sysname, s, e, config)) for s, e in zip(starts, lengths)]
    symbols = np.array([lead] * len(pos), dtype=object)
    ideal = pos.copy()
    for start, end, (rng_occ, rng_disp) in blocks:
        sites = (layer_idx >= start) & (layer_idx < end)
        n_sites = int(sites.sum())
        symbols[sites] = _occupation(comp, n_sites, rng_occ)
        pos[sites] += rng_disp.normal(0.0, float(delta) / math.sqrt(3.0), size=(n_sites, 3))
    if intermixed_layers:
        mixed = {el: 0.5 * c for el, c in comp.items()}
        mixed[lead] = mixed.get(lead, 0.0) + 0.5
        rng_mix = slab_rng(seed, sysname + ":intermixed", layers, config)[0]
        for ell in [*range(intermixed_layers), *range(layers - intermixed_layers, layers)]:
            sites = layer_idx == ell
            symbols[sites] = _occupation(mixed, int(sites.sum()), rng_mix)

    atoms = Atoms(
        symbols=[str(s) for s in symbols],
        positions=pos,
        cell=np.vstack([cell2d, [0.0, 0.0, (layers + 2 * lead_layers) * d]]),
        pbc=(True, True, False),
    )
    atoms.arrays["magmom_dir"] = np.tile(mvec, (len(atoms), 1))
    atoms.arrays["layer"] = layer_idx.astype(np.int64)
    atoms.arrays["region"] = region.astype(np.int64)
    atoms.arrays["ideal_positions"] = ideal
    t = frac @ prim
    atoms.info.update(
        direction=direction,
        lattice=lattice,
        supercell=[m, n],
        lattice_constant_angstrom=a,
        layer_spacing_angstrom=d,
        cell2d=cell2d.tolist(),
        layer_translation_angstrom=[float(t[0]), float(t[1]), d],
        delta_angstrom=float(delta),
        seed=int(seed),
        config=int(config),
        composition=comp,
        lead=str(lead),
        lead_layers=lead_layers,
        system=sysname,
        n_slab_atoms=n_slab,
        slab_layers=layers,
    )
    if lengths is not None:
        atoms.info["nested_lengths"] = lengths
    if intermixed_layers:
        atoms.info["intermixed_layers"] = int(intermixed_layers)
    return atoms


def truncate(atoms: Atoms, L: int) -> Atoms:
    """The stack whose slab is the first ``L`` slab layers of ``atoms`` (same buffers and leads).

    The left buffer and the slab atoms with layer < L are kept in their order; the right-buffer
    atoms (region 2) are moved from layers L_max, L_max + 1, … to L, L + 1, … by the crystal
    translation: layer ℓ + 1 is layer ℓ translated by t = δ + d ẑ =
    ``info["layer_translation_angstrom"]`` (Å), so they go to r − (L_max − L) t modulo in-plane
    lattice vectors. The lattice vector is fixed the way :func:`build_stack` wraps: the in-plane
    offset ℓ δ of every layer is taken in fractional coordinates of the primitive vectors
    a₁ = A₁/m, a₂ = A₂/n (from ``info["cell2d"]`` and ``info["supercell"]``) and wrapped into
    [0, 1) (values within ``isclose`` of 1 set to 0), and each atom is shifted by the difference of
    the wrapped offsets of its new and old layer. Every moved atom thus keeps its (i₁, i₂) site of
    the supercell and its place in the atom order, and stays inside the lateral cell. The same
    shift is applied to ``positions`` and ``ideal_positions``, so displacements ride along with
    their sites. Symbols, ``region`` and ``magmom_dir`` of the kept atoms are unchanged (a texture
    is not re-evaluated).

    For a nested stack (``build_stack(..., nested_lengths=(L₁, …, Lₙ))``) each increment's
    disorder is drawn independently (Brataas, Tserkovnyak, Bauer & Kelly, *Spin pumping and spin
    transfer*, arXiv:1108.0385, Sec. IV A, with :func:`increment_rng`), so ``truncate(atoms, Lᵢ)``
    equals ``build_stack(layers=Lᵢ, nested_lengths=(L₁, …, Lᵢ))`` with the other arguments
    unchanged. For a non-nested stack the geometry is that of ``build_stack(layers=L)`` but the
    disorder is the prefix of the longer configuration.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure from :func:`build_stack` (or :func:`tbmto.io.read_structure`), with arrays ``layer``,
        ``region``, ``ideal_positions`` and info ``slab_layers``, ``lead_layers``,
        ``layer_spacing_angstrom``, ``layer_translation_angstrom``, ``cell2d``.
    L : int
        Number of slab atomic layers kept: one of ``info["nested_lengths"]`` for a nested stack,
        else 1 ≤ L ≤ ``info["slab_layers"]``.

    Returns
    -------
    ase.Atoms
        New structure with cell z length (L + 2 lead_layers) d (Å), ``layer`` of the right buffer
        lowered by L_max − L, and info ``slab_layers`` = L, ``n_slab_atoms`` and (nested stacks
        only) ``nested_lengths`` = the entries ≤ L.

    Raises
    ------
    ValueError
        If L is not an allowed length.
    """
    info = atoms.info
    l_max = int(info["slab_layers"])
    nested = info.get("nested_lengths")
    is_int = not isinstance(L, bool) and isinstance(L, (int, np.integer))
    if nested is None:
        if not (is_int and 1 <= L <= l_max):
            raise ValueError(f"L must be an integer in [1, {l_max}] (the slab layers), got {L!r}")
    elif not (is_int and L in nested):
        raise ValueError(f"L must be one of the nested lengths {list(nested)}, got {L!r}")
    L = int(L)
    shift = l_max - L

    layer = np.asarray(atoms.arrays["layer"])
    keep = (np.asarray(atoms.arrays["region"]) != REGION_SLAB) | (layer < L)
    out = atoms[keep]
    out.info = copy.deepcopy(info)
    right = np.asarray(out.arrays["region"]) == REGION_RIGHT

    m, n = positive_int_pair(info["supercell"], "supercell")
    prim = np.asarray(info["cell2d"], dtype=float)[:, :2] / np.array([[m], [n]], dtype=float)
    t = np.asarray(info["layer_translation_angstrom"], dtype=float)
    offset = np.linalg.solve(prim.T, t[:2])  # δ in fractional coordinates of a₁, a₂
    old_layer = np.array(out.arrays["layer"], dtype=np.int64)
    new_layer = old_layer.copy()
    new_layer[right] -= shift
    # −shift·t modulo in-plane lattice vectors, with build_stack's per-layer wrap of ℓ δ
    step = np.zeros((int(right.sum()), 3))
    step[:, :2] = (_wrap_unit(np.outer(new_layer[right], offset))
                   - _wrap_unit(np.outer(old_layer[right], offset))) @ prim
    step[:, 2] = -shift * t[2]
    for key in ("positions", "ideal_positions"):  # atoms[keep] holds copies of the arrays
        out.arrays[key][right] += step
    out.arrays["layer"] = new_layer

    cell = out.cell.array.copy()
    cell[2] = [0.0, 0.0, (L + 2 * int(info["lead_layers"])) * float(info["layer_spacing_angstrom"])]
    out.set_cell(cell)
    out.info["slab_layers"] = L
    out.info["n_slab_atoms"] = int((np.asarray(out.arrays["region"]) == REGION_SLAB).sum())
    if nested is not None:
        out.info["nested_lengths"] = [int(v) for v in nested if v <= L]
    return out


def set_magnetization(atoms: Atoms, m: Sequence[float]) -> Atoms:
    """Copy of ``atoms`` with the uniform magnetisation direction m/|m| on every atom.

    Raises
    ------
    ValueError
        If m is not a finite non-zero 3-vector.
    """
    mvec = _unit(m, "m")
    out = atoms.copy()
    out.arrays["magmom_dir"] = np.tile(mvec, (len(out), 1))
    return out


def walker_profile(z: np.ndarray, center: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Walker domain-wall profile (seed Sec. IV B).

    f(z) = sech((z − r_w)/λ_w), g(z) = −tanh((z − r_w)/λ_w), with f² + g² = 1.

    Parameters
    ----------
    z : array
        Coordinates along the transport direction (Å).
    center : float
        Wall centre r_w (Å).
    width : float
        Wall width parameter λ_w > 0 (Å).
    """
    if not (np.isfinite(width) and width > 0):
        raise ValueError(f"width must be a positive length in Å, got {width!r}")
    x = (np.asarray(z, dtype=float) - float(center)) / float(width)
    return 1.0 / np.cosh(x), -np.tanh(x)


WALL_KINDS = ("neel", "rotated_neel", "bloch")
"""Domain-wall types of :func:`domain_wall` (seed Sec. IV B, Fig. 7)."""

_WALL_AXES = {"neel": (0.0, 1.0, 0.0), "rotated_neel": (0.0, 1.0, 0.0), "bloch": (0.0, 0.0, 1.0)}
"""Axis about which the moments of each wall type turn (m stays in the plane ⊥ the axis)."""


def _check_wall_kind(kind: str) -> str:
    if kind not in WALL_KINDS:
        raise ValueError(f"kind must be one of {WALL_KINDS}, got {kind!r}")
    return kind


def wall_center(atoms: Atoms, center: float | None = None) -> float:
    """Wall centre r_w in Å: ``center`` (checked finite) or the middle of the slab atoms' z range."""
    z = atoms.positions[:, 2]
    if center is None:
        slab = np.asarray(atoms.arrays["region"]) == REGION_SLAB
        zs = z[slab] if slab.any() else z
        center = 0.5 * (zs.min() + zs.max())
    if not np.isfinite(center):
        raise ValueError(f"center must be a finite z coordinate in Å, got {center!r}")
    return float(center)


def _wall_profile(z: np.ndarray, kind: str, center: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """m(z) of a wall and its derivative ∂m/∂r_w = −∂m/∂z (1/Å), both (n, 3)."""
    f, g = walker_profile(z, center, width)
    df, dg = f * g / width, -(f * f) / width  # ∂f/∂z = −sech·tanh/λ = f g/λ, ∂g/∂z = −sech²/λ
    zero = np.zeros_like(f)
    order = {"neel": (f, zero, g), "rotated_neel": (g, zero, f), "bloch": (g, f, zero)}[kind]
    dorder = {"neel": (df, zero, dg), "rotated_neel": (dg, zero, df), "bloch": (dg, df, zero)}[kind]
    return np.stack(order, axis=1), -np.stack(dorder, axis=1)


def domain_wall(atoms: Atoms, kind: str = "neel", center: float | None = None, width: float = 10.0) -> Atoms:
    """Copy of ``atoms`` with a head-to-head Walker domain wall (seed Sec. IV B, Fig. 7).

    With f, g from :func:`walker_profile` evaluated at each atom's z:
    Néel m = (f, 0, g); rotated Néel m = (g, 0, f); Bloch m = (g, f, 0).

    Parameters
    ----------
    atoms : ase.Atoms
        Structure from :func:`build_stack`.
    kind : {"neel", "rotated_neel", "bloch"}
        Wall type.
    center : float, optional
        Wall centre r_w in Å (absolute z); default the middle of the slab.
    width : float
        λ_w in Å (> 0).
    """
    _check_wall_kind(kind)
    mm, _ = _wall_profile(atoms.positions[:, 2], kind, wall_center(atoms, center), width)
    out = atoms.copy()
    out.arrays["magmom_dir"] = mm / np.linalg.norm(mm, axis=1, keepdims=True)
    return out


def wall_rotation(atoms: Atoms, kind: str = "neel", center: float | None = None,
                  width: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """How each moment of a :func:`domain_wall` turns when the wall moves: ∂θ_i/∂r_w.

    Translating the wall by δr_w turns the moment of atom i by δθ_i = w_i δr_w about the wall's
    axis ê (ŷ for the Néel and rotated Néel walls, ẑ for the Bloch wall), with
    w_i = (ê × m_i)·∂m_i/∂r_w and ∂m/∂r_w = −∂m/∂z of the Walker profile; for the Néel and
    Bloch walls w = −f/λ_w, for the rotated Néel wall w = +f/λ_w (f = sech((z − r_w)/λ_w)).
    So ∂H/∂r_w = Σ_i w_i ∂H/∂θ_i: the on-site rotation derivatives of the damping, weighted
    (seed Eqs. 71–72, 75–76).

    Parameters
    ----------
    atoms : ase.Atoms
    kind, center, width
        As for :func:`domain_wall` (Å).

    Returns
    -------
    axis : ndarray (3,)
        Unit rotation axis ê.
    rate : ndarray (natoms,)
        w_i in rad/Å.
    """
    _check_wall_kind(kind)
    mm, dm = _wall_profile(atoms.positions[:, 2], kind, wall_center(atoms, center), width)
    axis = np.array(_WALL_AXES[kind])
    return axis, np.einsum("ij,ij->i", np.cross(axis[None], mm), dm)
