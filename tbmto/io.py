"""Every file tbmto writes or reads, and the one atomic-write helper they all use.

Formats (reference: docs/interfaces.md):

* potentials JSON (:data:`POTENTIALS_FORMAT`): :func:`write_potentials` (the reader that turns
  a file into on-site parameters is :func:`tbmto.potentials.load`, on top of :func:`read_json`);
* structures, extended XYZ with the ``info`` dict JSON-encoded: :func:`write_structure`,
  :func:`read_structure`;
* transport results JSON (:data:`TRANSPORT_FORMAT`): :func:`write_transport`,
  :func:`read_transport`;
* tables, CSV + parquet: :func:`write_table`, :func:`read_table`;
* figures and lead-mode archives go through :func:`atomic_write` as well.

Every writer goes through :func:`atomic_write`: the content is written to a temporary file in the
target directory and renamed into place (``os.replace``), so a reader (or an interrupted job)
sees the old file, no file, or the complete new one — never a half-written result.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

__all__ = [
    "POTENTIALS_FORMAT",
    "LEGACY_POTENTIALS_FORMATS",
    "TRANSPORT_FORMAT",
    "atomic_write",
    "to_jsonable",
    "write_json",
    "read_json",
    "validate_potentials",
    "write_potentials",
    "write_structure",
    "read_structure",
    "write_transport",
    "read_transport",
    "write_table",
    "read_table",
]

POTENTIALS_FORMAT = "tbmto-potentials/2"
"""Format string of the potentials files (version 2: with the self-consistent spherical
potentials V_σ(r) of every species)."""
LEGACY_POTENTIALS_FORMATS = ("tbmto-potentials/1",)
"""Older potentials formats, recognised only to tell the user to regenerate the file."""
TRANSPORT_FORMAT = "tbmto-transport/1"
"""``format`` tag of the transport result files written by ``tbmto transport``."""

_POTENTIALS_REQUIRED = ("format", "system", "lattice", "composition", "lattice_constant_angstrom",
                        "wigner_seitz_radius_bohr", "fermi_energy_Ry", "species", "provenance")
_SPECIES_KEYS = ("concentration", "moment_muB", "charges", "C_Ry", "sqrt_delta_Ry", "gamma",
                 "xi_Ry", "radial")
_INFO_KEY = "tbmto_info"


def atomic_write(path: str | os.PathLike, writer: Callable[[str], None]) -> None:
    """Call ``writer(tmp)`` on a temporary file next to ``path``, then rename it to ``path``.

    The parent folder is created if needed. The temporary file keeps the suffix of ``path``
    (format detection by extension) and gets the permissions of a normally created file (0666
    minus the umask); it is removed on error, so ``path`` is either the complete new file or
    untouched.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=suffix, dir=directory)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)
        writer(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(data: Mapping, path: str | os.PathLike, indent: int = 1) -> None:
    """Write ``data`` as JSON (keys in insertion order, trailing newline) atomically."""

    def writer(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=indent)
            fh.write("\n")

    atomic_write(path, writer)


def read_json(path: str | os.PathLike, what: str = "file") -> dict:
    """Parse a JSON file; FileNotFoundError / ValueError naming ``what`` and the path."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    with open(path, encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{what} {path!r} is not valid JSON: {exc}") from None


# ----------------------------------------------------------------------------- potentials


def validate_potentials(data: dict) -> None:
    """Check the keys of a potentials dict and that it is marked converged.

    Raises
    ------
    ValueError
        Naming the missing key, the wrong format string, or an unconverged result.
    """
    if not isinstance(data, dict):
        raise ValueError(f"data must be a dict in the {POTENTIALS_FORMAT} format, got "
                         f"{type(data).__name__}")
    for key in _POTENTIALS_REQUIRED:
        if key not in data:
            raise ValueError(f"data lacks the required key {key!r} of the {POTENTIALS_FORMAT} format")
    if data["format"] != POTENTIALS_FORMAT:
        raise ValueError(f"data['format'] must be {POTENTIALS_FORMAT!r}, got {data['format']!r}")
    if not data["species"]:
        raise ValueError("data['species'] must hold at least one species")
    for name, sp in data["species"].items():
        for key in _SPECIES_KEYS:
            if key not in sp:
                raise ValueError(f"species {name!r} lacks the key {key!r}")
    if data["provenance"].get("converged") is not True:
        raise ValueError("refusing to write potentials whose provenance is not converged")


def write_potentials(data: dict, path: str | os.PathLike) -> None:
    """Validate (:func:`validate_potentials`) and write a potentials dict (the result of
    :func:`tbmto.asa.scf`) as JSON atomically."""
    validate_potentials(data)
    write_json(data, path, indent=2)


# ----------------------------------------------------------------------------- structures


def to_jsonable(v):
    """``v`` with numpy arrays and scalars turned into lists and Python numbers (for JSON)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, Mapping):
        return {str(k): to_jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x) for x in v]
    return v


def write_structure(atoms, path: str | os.PathLike) -> None:
    """Write an ``ase.Atoms`` to extended XYZ atomically.

    ``info`` is stored JSON-encoded under a single key so that strings such as "001", None,
    dicts and lists round-trip exactly; per-atom arrays are written as extxyz columns.
    """
    import ase.io

    out = atoms.copy()
    out.info = {_INFO_KEY: json.dumps(to_jsonable(dict(atoms.info)), sort_keys=True)}

    def writer(tmp: str) -> None:
        with open(tmp, "w") as fh:
            ase.io.write(fh, out, format="extxyz")

    atomic_write(path, writer)


def read_structure(path: str | os.PathLike):
    """Read a structure written by :func:`write_structure` (info decoded from JSON)."""
    import ase.io

    atoms = ase.io.read(os.fspath(path), format="extxyz")
    raw = atoms.info.pop(_INFO_KEY, None)
    if raw is not None:
        atoms.info.update(json.loads(raw))
    for key in ("layer", "region"):
        if key in atoms.arrays:
            atoms.arrays[key] = np.asarray(atoms.arrays[key], dtype=np.int64)
    return atoms


# ----------------------------------------------------------------------------- transport


def write_transport(data: Mapping, path: str | os.PathLike) -> None:
    """Write one transport result (``format`` = :data:`TRANSPORT_FORMAT`) atomically."""
    if data.get("format") != TRANSPORT_FORMAT:
        raise ValueError(f"transport data must have format {TRANSPORT_FORMAT!r}, got "
                         f"{data.get('format')!r}")
    write_json(data, path)


def read_transport(path: str | os.PathLike) -> dict:
    """Read a transport result file; ValueError if it is not a :data:`TRANSPORT_FORMAT` file."""
    data = read_json(path, "transport result")
    if not isinstance(data, dict) or data.get("format") != TRANSPORT_FORMAT:
        fmt = data.get("format") if isinstance(data, dict) else None
        raise ValueError(f"{os.fspath(path)}: not a {TRANSPORT_FORMAT} file (format={fmt!r})")
    return data


# ----------------------------------------------------------------------------- tables


def write_table(df, stem: str | os.PathLike) -> list[str]:
    """Write a pandas DataFrame to ``<stem>.csv`` and ``<stem>.parquet`` atomically; returns
    the paths."""
    stem = os.fspath(stem)
    csv, parquet = stem + ".csv", stem + ".parquet"
    atomic_write(csv, lambda p: df.to_csv(p, index=False))
    atomic_write(parquet, lambda p: df.to_parquet(p, index=False))
    return [csv, parquet]


def read_table(path: str | os.PathLike, name: str | None = None):
    """Read a table as a pandas DataFrame.

    ``read_table(dir, name)`` reads ``dir/name.parquet`` (preferred) or ``dir/name.csv``;
    ``read_table(file)`` reads one ``.csv`` or ``.parquet`` file. A CSV ``direction`` column
    is read as text (``"001"``, not the number 1).
    """
    import pandas as pd

    def read_csv(p):
        return pd.read_csv(p, dtype={"direction": str})

    if name is None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"table not found: {p}")
        return pd.read_parquet(p) if p.suffix == ".parquet" else read_csv(p)
    base = os.path.join(os.fspath(path), name)
    if os.path.isfile(base + ".parquet"):
        return pd.read_parquet(base + ".parquet")
    if os.path.isfile(base + ".csv"):
        return read_csv(base + ".csv")
    raise FileNotFoundError(f"table {name!r} not found in {path} (expected {name}.parquet or {name}.csv)")
