r"""Content-addressed cache of lead Bloch modes (in memory and optionally on disk).

The lead eigenproblem of :func:`~tbmto.wfm.leads.lead_modes` (a 2r × 2r Schur form per
lead, r = rank of the lead hopping) costs as much as or more than the slab sweep of
:func:`~tbmto.wfm.solver.smatrix_from_modes`. In a study the leads (e.g. non-magnetic Cu)
are the same for every slab length, disorder configuration and magnetisation direction,
so every transport job would recompute identical lead modes at identical k∥. This module
stores each solution under a key that is a SHA-256 digest of everything the result
depends on:

* the exact bytes of ``h`` and ``v`` after the canonical conversion that
  :func:`lead_modes` applies itself (complex128, C order; dtype and shape enter too),
* the energy (``float.hex``, exact) and the numerical options of :func:`lead_modes`
  (``prop_tol``, ``deg_tol``, ``rank_tol``, ``method``; defaults filled in, so an omitted
  option and its explicit default give one key; ``name`` only labels error messages and is
  not part of the key),
* a fingerprint of the code that computes the modes (SHA-256 of the source of
  :mod:`tbmto.wfm.leads` and :mod:`tbmto.wfm.validate`) and the numpy/scipy versions,
  so a changed algorithm or LAPACK binding never reads an old entry.

A key therefore never goes stale: an entry is either exactly the result for that input or
absent. Entries live in a bounded least-recently-used dictionary and, with ``directory``,
as ``directory/<key>.npz`` files (numpy archives, zlib-compressed by default, every
:class:`LeadModes` field, round trip bitwise exact). Sizes: four n × n complex blocks per
entry, ≈ 64 n² bytes raw, about half of that compressed (the MTO blocks h and v are mostly
zeros; Σ₊, Σ₋ are dense): 3.5 MB for a 3×3 fcc(001) Cu lead (n = 324), ≈ 27 MB for 5×5
(n = 900). Files are written to a temporary name in the same
directory and moved into place with :func:`os.replace`, so concurrent jobs (MPI ranks,
Snakemake jobs) sharing the directory never see a partial file; a corrupt, truncated or
mismatching file is treated as a miss and overwritten.

Caveat: with a multithreaded or CPU-dispatching BLAS, two machines may produce modes that
differ in the last bits; a shared directory then returns whichever machine computed an
entry first (equal to machine precision, a valid flux-normalised basis either way).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
import warnings
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import scipy

from ..io import atomic_write
from . import leads as _leads_module
from . import validate as _validate_module
from .leads import LeadModes, lead_modes
from .validate import check_energy, validate_lead

__all__ = [
    "CACHE_FORMAT",
    "LeadModeCache",
    "lead_modes_key",
    "save_lead_modes",
    "load_lead_modes",
]

#: Format tag stored in every file and hashed into every key.
CACHE_FORMAT = "tbmto-lead-modes/1"

_FIELDS = tuple(f.name for f in dataclasses.fields(LeadModes))
_ARRAY_FIELDS = tuple(n for n in _FIELDS if n != "energy")
#: Options of :func:`lead_modes` that change its result (``name`` only labels messages).
_SIGNATURE = inspect.signature(lead_modes)
_KEY_OPTIONS = tuple(p for p in _SIGNATURE.parameters if p not in ("h", "v", "energy", "name"))


def _code_fingerprint() -> str:
    """SHA-256 over the source of the modules that compute lead modes + library versions."""
    d = hashlib.sha256()
    for mod in (_leads_module, _validate_module):
        try:
            d.update(Path(mod.__file__).read_bytes())
        except (OSError, TypeError):  # frozen/zipped install: fall back to the package version
            from tbmto import __version__

            d.update(f"{mod.__name__}@{__version__}".encode())
    d.update(f"numpy {np.__version__} scipy {scipy.__version__}".encode())
    return d.hexdigest()


_CODE = _code_fingerprint()


def _options(kwargs: dict) -> tuple[dict, str | None]:
    """Bind ``lead_modes`` keyword options with defaults; return (options for the key, name)."""
    unknown = sorted(set(kwargs) - set(_KEY_OPTIONS) - {"name"})
    if unknown:
        raise ValueError(
            f"lead_modes options must be among {', '.join(_KEY_OPTIONS + ('name',))}, got {', '.join(unknown)}"
        )
    opts = {p: kwargs.get(p, _SIGNATURE.parameters[p].default) for p in _KEY_OPTIONS}
    for p in ("prop_tol", "deg_tol", "rank_tol"):
        val = opts[p]
        if isinstance(val, bool) or not isinstance(val, (int, float, np.floating, np.integer)):
            raise ValueError(f"{p} must be a real number, got {val!r}")
        opts[p] = float(val)
    if not isinstance(opts["method"], str):
        raise ValueError(f"method must be 'auto', 'schur' or 'qz', got {opts['method']!r}")
    name = kwargs.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name must be a string, got {type(name).__name__}")
    return opts, name


def _digest(h: np.ndarray, v: np.ndarray, energy: float, opts: dict) -> str:
    d = hashlib.sha256()
    d.update(f"{CACHE_FORMAT}\0{_CODE}\0".encode())
    for label, a in (("h", h), ("v", v)):
        a = np.ascontiguousarray(a)
        d.update(f"{label}:{a.dtype.str}:{a.shape}\0".encode())
        d.update(a.data)
    d.update(f"energy:{float(energy).hex()}\0".encode())
    for p in _KEY_OPTIONS:
        val = opts[p]
        d.update(f"{p}:{val.hex() if isinstance(val, float) else repr(val)}\0".encode())
    return d.hexdigest()


def _canonical(h: object, v: object, energy: object, kwargs: dict):
    h_arr, v_arr = validate_lead(h, v, "lead")
    e = check_energy(energy)
    opts, name = _options(kwargs)
    return h_arr, v_arr, e, opts, name


def lead_modes_key(h: object, v: object, energy: float = 0.0, **lead_modes_kwargs) -> str:
    """Cache key (64 hex digits, SHA-256) of ``lead_modes(h, v, energy, **lead_modes_kwargs)``.

    Parameters
    ----------
    h, v : array_like
        Lead onsite block and hopping H_{j,j+1} (n × n, model energy unit, e.g. Ry).
    energy : float
        Real energy E of K = E − H (same unit).
    **lead_modes_kwargs
        Options of :func:`~tbmto.wfm.leads.lead_modes` (``prop_tol``, ``deg_tol``,
        ``rank_tol``, ``method``; ``name`` is accepted and ignored).

    Returns
    -------
    str
        Digest over the canonical (complex128, C-order) bytes of h and v, their dtype and
        shape, the exact energy, the options with defaults filled in, and the code
        fingerprint (see the module docstring).

    Raises
    ------
    ValueError
        For invalid blocks or energy (as :func:`lead_modes`) or an unknown option.
    """
    h_arr, v_arr, e, opts, _ = _canonical(h, v, energy, lead_modes_kwargs)
    return _digest(h_arr, v_arr, e, opts)


def _freeze(modes: LeadModes, copy_blocks: bool) -> LeadModes:
    """Read-only LeadModes; ``copy_blocks`` copies h, v (they may alias the caller's arrays)."""
    fields = {}
    for name in _FIELDS:
        val = getattr(modes, name)
        if name != "energy":
            if copy_blocks and name in ("h", "v"):
                val = np.array(val, copy=True)
            val.setflags(write=False)
        fields[name] = val
    return LeadModes(**fields)


def _nbytes(modes: LeadModes) -> int:
    return sum(getattr(modes, n).nbytes for n in _ARRAY_FIELDS)


def save_lead_modes(path: str | os.PathLike, modes: LeadModes, key: str = "", compress: bool = True) -> None:
    """Write every field of ``modes`` to ``path`` (numpy .npz) atomically.

    The archive is written to a temporary file in the target directory and renamed
    (:func:`os.replace`), so readers see the old file, no file, or the complete new one.

    Parameters
    ----------
    path : path-like
        Target file (conventionally ``<key>.npz``); its directory must exist.
    modes : LeadModes
        Result of :func:`~tbmto.wfm.leads.lead_modes`.
    key : str
        Cache key stored in the file (checked by :func:`load_lead_modes`).
    compress : bool
        zlib-compress the archive (:func:`numpy.savez_compressed`; about half the size for
        MTO leads, ≈ 0.1 s per 7 MB written); lossless either way.

    Raises
    ------
    ValueError
        If ``modes`` is not a LeadModes.
    OSError
        If the file cannot be written (the temporary file is removed).
    """
    if not isinstance(modes, LeadModes):
        raise ValueError(f"modes must be a LeadModes instance, got {type(modes).__name__}")
    path = Path(path)
    arrays = {name: np.asarray(getattr(modes, name)) for name in _ARRAY_FIELDS}
    arrays["energy"] = np.float64(modes.energy)
    arrays["format"] = np.str_(CACHE_FORMAT)
    arrays["key"] = np.str_(key)
    def writer(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            (np.savez_compressed if compress else np.savez)(fh, **arrays)

    atomic_write(path, writer)


def load_lead_modes(path: str | os.PathLike, key: str | None = None) -> LeadModes:
    """Read a file written by :func:`save_lead_modes` (bitwise the saved arrays).

    Parameters
    ----------
    path : path-like
        The .npz file.
    key : str, optional
        Expected cache key; a file recording another key is rejected.

    Returns
    -------
    LeadModes
        With read-only arrays.

    Raises
    ------
    ValueError
        If the file is unreadable, truncated, of another format or key, lacks a field, or
        has inconsistent shapes/dtypes (a cache treats this as a miss).
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {name: z[name] for name in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable lead-modes archive ({type(exc).__name__}: {exc})") from None
    missing = [n for n in _FIELDS + ("format", "key") if n not in data]
    if missing:
        raise ValueError(f"{path}: lead-modes archive lacks {', '.join(missing)}")
    if str(data["format"]) != CACHE_FORMAT:
        raise ValueError(f"{path}: format {str(data['format'])!r}, expected {CACHE_FORMAT!r}")
    if key is not None and str(data["key"]) != key:
        raise ValueError(f"{path}: records key {str(data['key'])!r}, expected {key!r}")
    n = data["h"].shape[0] if data["h"].ndim == 2 else -1
    nm = data["lam_right"].shape[0] if data["lam_right"].ndim == 1 else -1
    shapes = {
        "h": (n, n), "v": (n, n), "self_energy_right": (n, n), "self_energy_left": (n, n),
        "lam_right": (nm,), "lam_left": (nm,), "vel_right": (nm,), "vel_left": (nm,),
        "u_right": (n, nm), "u_left": (n, nm),
    }
    for name, shape in shapes.items():
        a = data[name]
        kind = "f" if name.startswith("vel") else "c"
        if a.shape != shape or a.dtype.kind != kind or n < 1 or nm < 0:
            raise ValueError(f"{path}: field {name} has shape {a.shape} dtype {a.dtype}, expected {shape} ({kind})")
    if data["energy"].shape != () or data["energy"].dtype != np.float64:
        raise ValueError(f"{path}: field energy must be a float64 scalar")
    fields = {name: data[name] for name in _ARRAY_FIELDS}
    fields["energy"] = float(data["energy"])
    return _freeze(LeadModes(**fields), copy_blocks=False)


class LeadModeCache:
    """Content-addressed cache of :func:`~tbmto.wfm.leads.lead_modes` results.

    Parameters
    ----------
    directory : path-like, optional
        Directory for ``<key>.npz`` files (created if missing; may be shared by concurrent
        processes). None: memory only.
    max_memory_items : int
        Most entries kept in memory (least recently used evicted first); 0 disables the
        memory layer.
    max_memory_bytes : int
        Most array bytes kept in memory (a 5×5 fcc(001) Cu lead with n = 900 spin-orbitals
        takes ≈ 55 MB per entry).
    compress : bool
        Write zlib-compressed files (see :func:`save_lead_modes`).

    Attributes
    ----------
    stats : dict
        Counters ``memory_hits``, ``disk_hits``, ``misses`` (computed), ``disk_writes``,
        ``disk_errors`` (unreadable/mismatching files, replaced) and ``write_errors``.

    Notes
    -----
    Returned :class:`LeadModes` have read-only arrays (they are shared between callers).
    Results are bitwise those of ``lead_modes(h, v, energy, **options)`` computed in this
    process or, for a disk hit, in the process that wrote the entry.
    """

    def __init__(
        self,
        directory: str | os.PathLike | None = None,
        max_memory_items: int = 64,
        max_memory_bytes: int = 2**30,
        compress: bool = True,
    ) -> None:
        for label, val in (("max_memory_items", max_memory_items), ("max_memory_bytes", max_memory_bytes)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 0:
                raise ValueError(f"{label} must be a non-negative integer, got {val!r}")
        self.max_memory_items = int(max_memory_items)
        self.max_memory_bytes = int(max_memory_bytes)
        self.compress = bool(compress)
        self.directory: Path | None = None
        if directory is not None:
            try:
                path = Path(os.fspath(directory))
            except TypeError:
                raise ValueError(f"directory must be a path or None, got {type(directory).__name__}") from None
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"directory {os.fspath(path)!r} cannot be created: {exc}") from None
            if not path.is_dir():
                raise ValueError(f"directory {os.fspath(path)!r} is not a directory")
            self.directory = path
        self._memory: OrderedDict[str, LeadModes] = OrderedDict()
        self._bytes = 0
        self.stats = dict.fromkeys(
            ("memory_hits", "disk_hits", "misses", "disk_writes", "disk_errors", "write_errors"), 0
        )

    def __repr__(self) -> str:
        where = "memory only" if self.directory is None else os.fspath(self.directory)
        return f"LeadModeCache({where}, {len(self._memory)} in memory, stats={self.stats})"

    def __len__(self) -> int:
        """Number of entries held in memory."""
        return len(self._memory)

    @property
    def hits(self) -> int:
        """Memory + disk hits so far."""
        return self.stats["memory_hits"] + self.stats["disk_hits"]

    @property
    def misses(self) -> int:
        """Lookups that had to call :func:`lead_modes`."""
        return self.stats["misses"]

    def path_for(self, key: str) -> Path | None:
        """File of ``key`` in the cache directory (None without a directory)."""
        return None if self.directory is None else self.directory / f"{key}.npz"

    def clear_memory(self) -> None:
        """Drop the in-memory entries (files are kept)."""
        self._memory.clear()
        self._bytes = 0

    def _remember(self, key: str, modes: LeadModes) -> None:
        if self.max_memory_items == 0:
            return
        size = _nbytes(modes)
        if size > self.max_memory_bytes:
            return
        old = self._memory.pop(key, None)
        if old is not None:
            self._bytes -= _nbytes(old)
        self._memory[key] = modes
        self._bytes += size
        while len(self._memory) > self.max_memory_items or self._bytes > self.max_memory_bytes:
            _, dropped = self._memory.popitem(last=False)
            self._bytes -= _nbytes(dropped)

    def lookup(self, h: object, v: object, energy: float = 0.0, **lead_modes_kwargs) -> tuple[LeadModes, str]:
        """Lead modes of (h, v) at ``energy`` and where they came from.

        Parameters
        ----------
        h, v, energy, **lead_modes_kwargs
            As :func:`~tbmto.wfm.leads.lead_modes` (``name`` labels its error messages).

        Returns
        -------
        tuple
            (LeadModes, source) with source ``"memory"``, ``"disk"`` or ``"computed"``.

        Raises
        ------
        ValueError
            As :func:`lead_modes` (invalid input, band edge, ...); errors are not cached.
        """
        h_arr, v_arr, e, opts, name = _canonical(h, v, energy, lead_modes_kwargs)
        key = _digest(h_arr, v_arr, e, opts)
        modes = self._memory.get(key)
        if modes is not None:
            self._memory.move_to_end(key)
            self.stats["memory_hits"] += 1
            return modes, "memory"
        path = self.path_for(key)
        if path is not None and path.exists():
            try:
                modes = load_lead_modes(path, key)
                # guard against a file copied under a wrong name / a digest collision
                if not (np.array_equal(modes.h, h_arr) and np.array_equal(modes.v, v_arr)
                        and modes.energy == e):
                    raise ValueError(f"{path}: stored blocks differ from the requested ones")
            except ValueError:
                self.stats["disk_errors"] += 1
                modes = None
            if modes is not None:
                self.stats["disk_hits"] += 1
                self._remember(key, modes)
                return modes, "disk"
        kw = dict(opts)
        if name is not None:
            kw["name"] = name
        modes = _freeze(lead_modes(h_arr, v_arr, e, **kw), copy_blocks=True)
        self.stats["misses"] += 1
        self._remember(key, modes)
        if path is not None:
            try:
                save_lead_modes(path, modes, key, compress=self.compress)
                self.stats["disk_writes"] += 1
            except OSError as exc:
                self.stats["write_errors"] += 1
                warnings.warn(f"lead-mode cache: cannot write {path}: {exc}", RuntimeWarning, stacklevel=2)
        return modes, "computed"

    def get_or_compute(self, h: object, v: object, energy: float = 0.0, **lead_modes_kwargs) -> LeadModes:
        """``lead_modes(h, v, energy, **lead_modes_kwargs)``, from the cache when present.

        See :meth:`lookup` (which also reports the source).
        """
        return self.lookup(h, v, energy, **lead_modes_kwargs)[0]
