"""The conda environment files parse, every rule names one, and their pins agree with pyproject.toml."""

import re
import tomllib

import pytest
import yaml
from conftest import REPO

ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _pyproject_pins():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d).groups() for d in deps)


def test_there_is_one_env_per_kind_of_rule():
    assert [p.stem for p in ENV_FILES] == ["data", "evaluate", "plots", "train"]


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_parses_and_pins_agree_with_pyproject(path):
    env = yaml.safe_load(path.read_text())
    assert "conda-forge" in env["channels"]
    pins = _pyproject_pins()
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("python=3.11") for d in deps)
    for dep in deps:
        name, _, version = dep.partition("=")
        if name == "python":
            continue
        pypi = CONDA_NAMES.get(name, name)
        assert pypi in pins, f"{path.name}: {name} is not a dependency in pyproject.toml"
        assert version == pins[pypi], f"{path.name}: {name}={version} but pyproject.toml pins {pins[pypi]}"


def test_every_rule_names_an_existing_conda_env_and_a_log():
    rule_files = sorted((REPO / "workflow" / "rules").glob("*.smk"))
    checked = 0
    for smk in rule_files:
        text = smk.read_text()
        for block in re.split(r"\n(?=rule )", text)[1:]:
            name = block.split(":", 1)[0].removeprefix("rule ")
            if "shell:" not in block and "run:" not in block:
                continue
            env = re.search(r'conda:\s*\n\s*"([^"]+)"', block)
            assert env, f"rule {name} in {smk.name} names no conda environment"
            assert (smk.parent / env.group(1)).resolve().is_file(), f"rule {name}: {env.group(1)} missing"
            assert re.search(r"\n    log:", block), f"rule {name} has no log"
            checked += 1
    assert checked >= 4
