"""Template parameters from job files and the studio: finite numbers (true/false for ``clockwise``), checked when the
template is built, with an error naming the field instead of a crash when the path is rendered."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from trajkit.author import entities as tpl
from trajkit.core.errors import TrajkitError, ValidationError


@pytest.mark.parametrize("value", ["x", math.nan, math.inf, True, None, [1.0]])
def test_a_parameter_that_is_not_a_finite_number_is_refused_when_built(value: object) -> None:
    with pytest.raises(ValidationError, match=r"^field 'entities\.templates\.0': radius: expected a finite number"):
        tpl.template("arc", {"radius": value}, "field 'entities.templates.0'")


def test_parameters_are_converted_to_their_types() -> None:
    built = tpl.template("zigzag", {"length": 6, "width": 1, "count": 3.0, "direction": 0})
    assert built.name == "zigzag"
    with pytest.raises(ValidationError, match="count: expected a whole number"):
        tpl.template("zigzag", {"count": 2.5})
    with pytest.raises(ValidationError, match="clockwise: expected true or false"):
        tpl.template("circle", {"clockwise": 1})
    assert tpl.template("circle", {"radius": 2, "clockwise": False}).name == "arc"
    with pytest.raises(TrajkitError, match="arc does not take \\['speed'\\]"):
        tpl.template("arc", {"speed": 1.0})


def test_makers_and_shape_names_agree() -> None:
    from typing import get_args

    assert set(tpl.MAKERS) == set(get_args(tpl.TemplateShape))
    assert all(tpl.MAKERS[name].__name__ == name for name in tpl.MAKERS)


def test_a_job_with_a_text_radius_names_the_field(tmp_path: Path) -> None:
    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import parse_jobs

    spec = parse_jobs({"entities": {"templates": [{"shape": "arc", "radius": "x"}], "prompts": ["a fox"]},
                       "backend": "cogvideox-3dtrajmaster", "frames": 9, "size": [64, 48]})[0]
    with pytest.raises(TrajkitError, match=r"field 'entities\.templates\.0': radius: expected a finite number"):
        resolve_job(spec, tmp_path)
