"""Installing LinkStar prints no setuptools deprecation warning (issue #12, point 14)."""

from __future__ import annotations

import tomllib
import warnings

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.harness import REPO


def test_license_is_an_spdx_expression_with_its_file(monkeypatch: pytest.MonkeyPatch) -> None:
    setuptools = pytest.importorskip("setuptools")
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    monkeypatch.chdir(REPO)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        distribution = apply_configuration(Distribution(), REPO / "pyproject.toml")
    deprecations = [
        str(w.message)
        for w in caught
        if issubclass(w.category, setuptools.SetuptoolsDeprecationWarning)
    ]
    assert deprecations == []
    assert distribution.metadata.license_expression == "LicenseRef-Proprietary"
    assert distribution.metadata.license_files == ["LICENSE"]


def test_the_build_requires_a_setuptools_that_knows_spdx_licenses() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    (setuptools,) = [
        Requirement(r) for r in project["build-system"]["requires"] if r.startswith("setuptools")
    ]
    assert not setuptools.specifier.contains(Version("76.9"))
    assert setuptools.specifier.contains(Version("77.0"))
