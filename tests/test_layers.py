"""The layers of ARCHITECTURE.md, checked by walking the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import talaro

PACKAGE = Path(talaro.__file__).parent
# What telemetry may never import: it is read by the application, never the reverse.
FORBIDDEN_FOR_TELEMETRY = (
    "talaro.models",
    "talaro.extensions",
    "talaro.error_handlers",
    "talaro.services",
    "talaro.security",
    "talaro.permissions",
    "talaro.blueprints",
    "talaro.auth",
)
# Ground-floor modules import nothing of Talaro but each other.
GROUND_FLOOR = {"talaro.errors": set(), "talaro.identity": set()}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every talaro module `path` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "talaro" or name.startswith("talaro.")}


def modules() -> dict[str, set[str]]:
    return {
        module_name(path): imports_of(path)
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
    }


def test_the_walk_sees_the_imports() -> None:
    walked = modules()
    assert "talaro.telemetry.catalogue" in walked["talaro.telemetry.events"]
    assert "talaro.error_handlers" in walked["talaro.auth"]


def test_telemetry_never_imports_the_application() -> None:
    offenders = {
        f"{name} imports {target}"
        for name, targets in modules().items()
        if name.startswith("talaro.telemetry")
        for target in targets
        if target.startswith(FORBIDDEN_FOR_TELEMETRY)
    }
    assert not offenders, sorted(offenders)


def test_ground_floor_modules_import_nothing_of_talaro() -> None:
    walked = modules()
    for name, allowed in GROUND_FLOOR.items():
        assert walked[name] <= allowed, (name, walked[name])


def test_no_import_cycle_between_errors_extensions_models_detection_and_events() -> None:
    walked = modules()
    watched = {
        "talaro.errors",
        "talaro.extensions",
        "talaro.models",
        "talaro.security.detection",
        "talaro.telemetry.events",
        "talaro.permissions",
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for target in walked.get(start, ()):
            if target == goal:
                return True
            if target in walked and target not in seen:
                seen.add(target)
                if reaches(target, goal, seen):
                    return True
        return False

    cycles = [name for name in sorted(watched) if reaches(name, name, set())]
    assert not cycles, cycles
