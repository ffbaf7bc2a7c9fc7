"""Compositions: validation, labels, parsing and exact site counts (tbmto.composition)."""

import numpy as np
import pytest

from tbmto.composition import check_composition, composition_label, parse_composition, species_counts


def test_zero_fractions_are_dropped_and_order_kept():
    assert check_composition({"Ni": 1.0, "Fe": 0.0}) == {"Ni": 1.0}
    assert list(check_composition({"Fe": 0.7, "Co": 0.28, "V": 0.02})) == ["Fe", "Co", "V"]
    assert check_composition("Cu") == {"Cu": 1.0}


@pytest.mark.parametrize("comp, match", [
    ({"Ni": 0.8, "Fe": 0.3}, "sum to 1"),
    ({"Ni": 1.2, "Fe": -0.2}, "must lie in"),
    ({"Ni": 0.5, "Xx": 0.5}, "unknown element"),
    ({"Ni": float("nan"), "Fe": 0.2}, "finite"),
    ({"Ni": True}, "finite number"),
    ({}, "non-empty"),
    ({"Ni": 0.0}, "sum to 1"),
])
def test_bad_compositions_name_the_key(comp, match):
    with pytest.raises(ValueError, match=match) as exc:
        check_composition(comp, key="alloys[3]")
    assert "alloys[3]" in str(exc.value)


def test_labels():
    assert composition_label({"Fe": 0.75, "Co": 0.25}) == "Fe0.75Co0.25"
    assert composition_label({"Ni": 0.8, "Fe": 0.2}) == "Ni0.8Fe0.2"
    assert composition_label({"Ni": 1.0, "Cu": 0.0}) == "Ni"
    assert composition_label({"Fe": 0.7, "Co": 0.28, "V": 0.02}) == "Fe0.7Co0.28V0.02"


def test_parse():
    assert parse_composition("Fe=0.75,Co=0.25") == {"Fe": 0.75, "Co": 0.25}
    assert parse_composition(" W ") == {"W": 1.0}
    for bad, match in (("Fe=0.5,Fe=0.5", "twice"), ("Fe=x", "number"), ("Fe=0.5,Co", "ELEMENT=FRACTION")):
        with pytest.raises(ValueError, match=match):
            parse_composition(bad)


@pytest.mark.parametrize("n", [1, 7, 32, 100, 1000])
def test_counts_are_exact_and_fill_the_sites(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        c = rng.dirichlet(np.ones(3))
        comp = {"Fe": c[0], "Co": c[1], "V": 1.0 - c[0] - c[1]}
        counts = species_counts(comp, n)
        assert sum(counts.values()) == n and min(counts.values()) >= 0
        # every species but the majority gets floor(c N + 1/2); the majority is within the rounding
        major = max(comp, key=comp.get)
        for el, k in counts.items():
            if el != major:
                assert k == int(np.floor(comp[el] * n + 0.5))
        assert abs(counts[major] - comp[major] * n) <= 0.5 * (len(comp) - 1) + 0.5 + 1e-9


def test_binary_counts_round_half_up():
    assert species_counts({"Ni": 0.8, "Fe": 0.2}, 32) == {"Ni": 26, "Fe": 6}
    assert species_counts({"Fe": 0.75, "Co": 0.25}, 32) == {"Fe": 24, "Co": 8}
    # tie: the majority is the first symbol (Cu); the minority Ni rounds 1.5 half up
    assert species_counts({"Ni": 0.5, "Cu": 0.5}, 3) == {"Ni": 2, "Cu": 1}
