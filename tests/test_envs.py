"""The conda environment files parse, every rule names one, their pins agree with pyproject.toml, and training gets a
CUDA build of PyTorch (or fails to resolve) wherever conda creates its environment."""

import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from conftest import REPO

ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))
CONDA_NAMES = {"pytorch": "torch", "pytorch-gpu": "torch", "pytorch-cpu": "torch"}  # conda-forge -> PyPI name


def _pyproject_pins():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d).groups() for d in deps)


def _specs(name):
    """An env file's dependencies as name -> (version, build)."""
    env = yaml.safe_load((REPO / "envs" / f"{name}.yaml").read_text())
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    return {dep.split("=")[0]: tuple((dep.split("=") + ["", ""])[1:3]) for dep in deps}


def test_there_is_one_env_per_kind_of_rule():
    assert [p.stem for p in ENV_FILES] == ["data", "evaluate", "plots", "train-cpu", "train"]


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_parses_and_pins_agree_with_pyproject(path):
    env = yaml.safe_load(path.read_text())
    assert env["channels"][0] == "conda-forge" and "nodefaults" in env["channels"]
    pins = _pyproject_pins()
    for name, (version, _build) in _specs(path.stem).items():
        if name == "python":
            assert version == "3.11"
            continue
        pypi = CONDA_NAMES.get(name, name)
        assert pypi in pins, f"{path.name}: {name} is not a dependency in pyproject.toml"
        assert version == pins[pypi], f"{path.name}: {name}={version} but pyproject.toml pins {pins[pypi]}"


def test_the_gpu_training_env_can_only_resolve_to_a_cuda_build():
    """conda-forge's pytorch-gpu and a cuda* build string need the __cuda virtual package: on a machine without a
    GPU driver the solve fails (CONDA_OVERRIDE_CUDA is the way round), it never falls back to the CPU build."""
    specs = _specs("train")
    assert specs["pytorch-gpu"][0] == specs["pytorch"][0]
    assert specs["pytorch"][1] == "cuda*"
    assert "CONDA_OVERRIDE_CUDA" in (REPO / "envs" / "train.yaml").read_text()
    cpu = _specs("train-cpu")
    assert cpu["pytorch"][1] == "cpu*" and "pytorch-cpu" in cpu
    assert {k: v for k, v in specs.items() if not k.startswith("pytorch")} == {
        k: v for k, v in cpu.items() if not k.startswith("pytorch")
    }


RULE_ENVS = """
import sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(resource_settings=ResourceSettings(cores=1), snakefile=Path(sys.argv[1]),
                            config_settings=ConfigSettings(configfiles=[Path(sys.argv[2])]), workdir=Path.cwd())
    for rule in workflow._workflow.rules:
        print(rule.name, rule.conda_env)
"""


@pytest.mark.parametrize("device, env", [("cpu", "train-cpu.yaml"), ("auto", "train.yaml"), ("cuda", "train.yaml")])
def test_training_rules_use_the_env_of_their_device(tmp_path, device, env):
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    cfg["training"].update(device=device, pack_size=2)
    cfg["seeds"] = [0, 1, 2]
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out = subprocess.run(
        [sys.executable, "-c", RULE_ENVS, str(REPO / "Snakefile"), str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    envs = dict(line.split() for line in out.splitlines() if line.startswith("train"))
    assert len(envs) == 2 * 7 and set(envs.values()) == {f"../../envs/{env}"}, out  # two packs per (model, strength)


def test_every_rule_names_an_existing_conda_env_and_a_log():
    rule_files = sorted((REPO / "workflow" / "rules").glob("*.smk"))
    checked = 0
    for smk in rule_files:
        text = smk.read_text()
        for block in re.split(r"\n(?=\s*rule)", text)[1:]:
            name = block.split(":", 1)[0].strip().removeprefix("rule ")
            if "shell:" not in block and "run:" not in block:
                continue
            env = re.search(r'conda:\s*\n\s*("([^"]+)"|TRAIN_ENV)', block)
            assert env, f"rule {name} in {smk.name} names no conda environment"
            paths = [env.group(2)] if env.group(2) else ["../../envs/train.yaml", "../../envs/train-cpu.yaml"]
            for path in paths:
                assert (smk.parent / path).resolve().is_file(), f"rule {name}: {path} missing"
            assert re.search(r"\n\s+log:", block), f"rule {name} has no log"
            checked += 1
    assert checked >= 8
