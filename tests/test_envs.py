"""The conda environment files parse, every rule names one, their pins agree with pyproject.toml, and training gets a
CUDA build of PyTorch (or fails to resolve) wherever conda creates its environment."""

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

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


RULES = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(resource_settings=ResourceSettings(cores=1), snakefile=Path(sys.argv[1]),
                            config_settings=ConfigSettings(configfiles=[Path(sys.argv[2])]), workdir=Path.cwd())
    print(json.dumps([
        {"name": r.name, "env": str(r.conda_env) if r.conda_env else None, "script": r.script, "log": list(r.log)}
        for r in workflow._workflow.rules if r.name != "all"
    ]))
"""


def _rules(tmp_path, device, pack_size=1, seeds=(0,)):
    """The rules Snakemake parses for config/tiny.yaml trained on ``device``."""
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    cfg["training"].update(device=device, pack_size=pack_size)
    cfg["seeds"] = list(seeds)
    config = tmp_path / f"{device}-{pack_size}.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out = subprocess.run(
        [sys.executable, "-c", RULES, str(REPO / "Snakefile"), str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """The workflow's rules as Snakemake parses them, for a CPU-trained and a GPU-trained config."""
    tmp = tmp_path_factory.mktemp("rules")
    return _rules(tmp, "cpu") + _rules(tmp, "cuda")


@pytest.mark.parametrize("device, env", [("cpu", "train-cpu.yaml"), ("auto", "train.yaml"), ("cuda", "train.yaml")])
def test_training_rules_use_the_env_of_their_device(tmp_path, device, env):
    envs = {
        r["name"]: r["env"]
        for r in _rules(tmp_path, device, pack_size=2, seeds=(0, 1, 2))
        if r["name"].startswith("train")
    }
    assert len(envs) == 2 * 7 and set(envs.values()) == {f"../../envs/{env}"}, envs  # two packs per (model, strength)


def _env_file(rule) -> Path:
    return (REPO / "workflow" / "rules" / rule["env"]).resolve()


def test_every_rule_has_an_existing_env_a_script_and_a_log_and_every_env_is_used(rules):
    for rule in rules:
        assert rule["env"] and _env_file(rule).is_file(), f"rule {rule['name']}: conda env {rule['env']} missing"
        assert rule["log"], f"rule {rule['name']} has no log"
        assert rule["script"] and (REPO / "workflow" / "rules" / rule["script"]).resolve().is_file(), rule
    assert {_env_file(rule) for rule in rules} == {p.resolve() for p in ENV_FILES}, "an env file no rule uses"


IMPORT_NAMES = {"torch": "pytorch", "sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow"}  # -> conda name


def _imports(tree) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # a submodule imported by name
    return found


def command_imports(command: str) -> set[str]:
    """Every third-party package the command a rule runs imports: its function in dislab/cli.py, the modules of
    dislab it imports and theirs, whole; nothing of the standard library."""
    cli = ast.parse((REPO / "dislab" / "cli.py").read_text())
    function = next(
        n for n in cli.body if isinstance(n, ast.FunctionDef) and n.name == f"cmd_{command.replace('-', '_')}"
    )
    pending = _imports(function) | {
        n for node in cli.body if isinstance(node, (ast.Import, ast.ImportFrom)) for n in _imports(node)
    }
    if command == "figure":  # the registry names the drawing modules it imports by name
        from dislab.figures.registry import FIGURES

        pending |= {f"dislab.figures.{f.draw.split(':')[0]}" for f in FIGURES}
    seen, third_party = set(), set()
    while pending:
        name = pending.pop()
        top = name.split(".")[0]
        if top != "dislab":
            if top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
            continue
        path = REPO / Path(*name.split("."))
        source = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
        if source.is_file() and source not in seen:
            seen.add(source)
            pending |= _imports(ast.parse(source.read_text()))
    return third_party


def test_every_package_a_rule_imports_is_in_its_environment(rules):
    """A rule's conda environment holds what its command imports: an env that lacks one fails here, not on a
    cluster node hours into a run."""
    for rule in rules:
        command = re.search(
            r'run_rule\("([a-z-]+)"', (REPO / "workflow" / "rules" / rule["script"]).resolve().read_text()
        )[1]
        env = {dep.split("=")[0] for dep in yaml.safe_load(_env_file(rule).read_text())["dependencies"]}
        missing = {IMPORT_NAMES.get(pkg, pkg) for pkg in command_imports(command)} - env
        assert not missing, (
            f"rule {rule['name']} runs dislab {command}, which imports {missing} missing from {rule['env']}"
        )


def test_the_import_check_sees_what_a_command_imports():
    assert {"torch", "h5py", "numpy"} <= command_imports("train")
    assert {"sklearn", "scipy", "joblib"} <= command_imports("evaluate")
    assert {"matplotlib", "seaborn", "scipy"} <= command_imports("figure") and "torch" not in command_imports(
        "results-index"
    )
