"""Writing the potentials file (:data:`FORMAT`, docs/interfaces.md) atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

FORMAT = "tbmto-potentials/2"
"""Format string of the potentials files written here and read by :func:`tbmto.potentials.load`
(version 2: with the self-consistent spherical potentials V_σ(r) of every species)."""
LEGACY_FORMATS = ("tbmto-potentials/1",)
"""Older formats, recognised only to tell the user to regenerate the file."""

_REQUIRED = ("format", "system", "lattice", "x_fe", "lattice_constant_angstrom",
             "wigner_seitz_radius_bohr", "fermi_energy_Ry", "species", "provenance")
_SPECIES_KEYS = ("concentration", "moment_muB", "charges", "C_Ry", "sqrt_delta_Ry", "gamma",
                 "xi_Ry", "radial")


def validate_potentials(data: dict) -> None:
    """Check the keys of a potentials dict and that it is marked converged.

    Raises
    ------
    ValueError
        Naming the missing key, the wrong format string, or an unconverged result.
    """
    if not isinstance(data, dict):
        raise ValueError(f"data must be a dict in the {FORMAT} format, got {type(data).__name__}")
    for key in _REQUIRED:
        if key not in data:
            raise ValueError(f"data lacks the required key {key!r} of the {FORMAT} format")
    if data["format"] != FORMAT:
        raise ValueError(f"data['format'] must be {FORMAT!r}, got {data['format']!r}")
    if not data["species"]:
        raise ValueError("data['species'] must hold at least one species")
    for name, sp in data["species"].items():
        for key in _SPECIES_KEYS:
            if key not in sp:
                raise ValueError(f"species {name!r} lacks the key {key!r}")
    if data["provenance"].get("converged") is not True:
        raise ValueError("refusing to write potentials whose provenance is not converged")


def write_potentials(data: dict, path) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temporary file in the same folder, then
    ``os.replace``), creating the parent folder if needed.

    Parameters
    ----------
    data : dict
        Result of :func:`tbmto.asa.scf` (validated by :func:`validate_potentials`).
    path : str or Path
        Destination file.
    """
    validate_potentials(data)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
