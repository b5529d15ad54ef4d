"""Every third-party package the code imports is declared in pyproject.toml, so that an
install from the project's own metadata never depends on what another package pulls in."""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "talaro"


def imported_modules(path: Path) -> Iterator[str]:
    """The absolute module names `path` imports, anywhere in it (functions included);
    ``from a import b`` gives ``a.b`` (b may be a module of a namespace package) and ``a``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@cache
def top_level_distributions() -> dict[str, list[str]]:
    return packages_distributions()


@cache
def namespace_owners() -> dict[str, str]:
    """Module name -> distribution, for the modules of top-level names that several
    distributions share (``opentelemetry``): only a deeper module says which one."""
    shared = {top for top, dists in top_level_distributions().items() if len(set(dists)) > 1}
    owners: dict[str, str] = {}
    for dist in distributions():
        for file in dist.files or []:
            parts = file.with_suffix("").parts
            if file.suffix == ".py" and parts and parts[0] in shared:
                module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                owners.setdefault(module, dist.metadata["Name"])
    return owners


def distribution_of(module: str) -> str | None:
    """The distribution that provides `module`, None for the standard library and us;
    "" when no installed distribution does (a name from ``from a import name``)."""
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top == PACKAGE or top == "__future__":
        return None
    dists = sorted(set(top_level_distributions().get(top, [])))
    if len(dists) == 1:
        return dists[0]
    parts = module.split(".")
    if len(parts) == 1 and dists:
        return None  # the bare namespace (`from opentelemetry import trace` names the module)
    for end in range(len(parts), 1, -1):  # the deepest module some distribution owns
        if owner := namespace_owners().get(".".join(parts[:end])):
            return owner
    return ""


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}


def test_every_imported_distribution_is_declared() -> None:
    needed: dict[str, set[str]] = {}
    unknown: dict[str, set[str]] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        where = str(path.relative_to(ROOT))
        modules = set(imported_modules(path))
        for module in modules:
            dist = distribution_of(module)
            if dist:
                needed.setdefault(canonicalize_name(dist), set()).add(where)
            elif dist == "" and module.rpartition(".")[0] not in modules:
                unknown.setdefault(module, set()).add(where)  # an import nothing provides
    missing = {dist: sorted(files) for dist, files in needed.items() if dist not in declared()}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    assert not unknown, f"imported, but no installed distribution provides: {unknown}"
    assert "opentelemetry-proto-json" in needed  # the resolution sees namespace packages


def test_namespace_imports_resolve_to_their_own_distribution() -> None:
    assert distribution_of("opentelemetry.proto_json.logs.v1.logs") == "opentelemetry-proto-json"
    assert distribution_of("opentelemetry.sdk._logs.export") == "opentelemetry-sdk"
    assert distribution_of("opentelemetry.trace") == "opentelemetry-api"
    assert distribution_of("json") is None
    assert distribution_of("talaro.telemetry") is None
