"""Config checks that read as one line per problem, naming the key."""

from __future__ import annotations

import jsonschema
import yaml


def config_problems(config: dict, schema_path) -> list[str]:
    """Every schema violation in ``config``, as 'at <key path>: <what is wrong>'."""
    with open(schema_path) as fh:
        schema = yaml.safe_load(fh)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"at {where}: {error.message}")
    return problems
