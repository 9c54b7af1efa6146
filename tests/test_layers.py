"""The layer rules of docs/architecture.md, checked on every import of every module (lazy ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Folder of each installed package (pyproject.toml's package-dir, plus the benchmarks' own distribution).
PACKAGE_FOLDERS = {
    "notestream": "notestream",
    "notestream.model": "model",
    "notestream.score": "score",
    "notestream.server": "stream_server",
    "notestream.client": "client_py",
    "notestream.web": "client_web",
    "notestream_bench": "benchmarks",
}
# Layer of each part, lowest first: a module imports only from lower layers and from its own part.
LAYERS = {
    "base": 0,       # notestream.notes, .audio, .midi: the types and file formats everyone speaks
    "model": 1,      # features, network, decoding, training, data
    "score": 1,      # sheet music from notes
    "exporters": 2,  # files out of a transcription: MIDI, text, sheet music, resynthesis
    "web": 2,        # the browser app's files (a client, but no Python imports): the server serves them
    "server": 3,
    "client": 3,
    "archive": 3,    # many files on worker processes or a Ray cluster: beside the server, above model and exporters
    "cli": 4,
    "bench": 4,      # benchmarks use the library, never the CLI (below)
}
BASE_MODULES = {"notestream", "notestream.notes", "notestream.audio", "notestream.midi"}


def part_of(module: str) -> str:
    """The part of the architecture a notestream module belongs to."""
    if module in BASE_MODULES:
        return "base"
    if module.startswith("notestream_bench"):
        return "bench"
    second = module.split(".")[1]
    named = {"model": "model", "score": "score", "exporters": "exporters", "server": "server", "client": "client",
             "web": "web", "archive": "archive", "cli": "cli", "commands": "cli", "__main__": "cli"}
    return named[second]


def our_modules() -> dict[str, Path]:
    """Every module of ours by its installed name."""
    modules = {}
    for package, folder in PACKAGE_FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            relative = path.relative_to(REPO / folder).with_suffix("")
            parts = [p for p in relative.parts if p != "__init__"]
            if package == "notestream" and parts[:1] and f"notestream.{parts[0]}" in PACKAGE_FOLDERS:
                continue
            if "peers" in parts:  # the peers' runner scripts run in the peers' own environments
                continue
            modules[".".join([package, *parts])] = path
    return modules


def imports_of(module: str, path: Path) -> set[str]:
    """The notestream modules `module` imports, anywhere in its body; relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    modules = our_modules_cache()
    return {name for name in found if name in modules and name != module}


_CACHE: dict[str, Path] = {}


def our_modules_cache() -> dict[str, Path]:
    if not _CACHE:
        _CACHE.update(our_modules())
    return _CACHE


def import_graph() -> dict[str, set[str]]:
    return {module: imports_of(module, path) for module, path in our_modules_cache().items()}


def test_every_package_folder_is_found():
    parts = {part_of(m) for m in our_modules_cache()}
    assert parts == set(LAYERS)


@pytest.mark.parametrize("module", sorted(our_modules_cache()))
def test_a_module_imports_only_its_own_part_and_lower_layers(module):
    part = part_of(module)
    upward = sorted(target for target in imports_of(module, our_modules_cache()[module])
                    if part_of(target) != part and LAYERS[part_of(target)] >= LAYERS[part])
    assert upward == [], f"{module} ({part}) imports from its own layer or above"


def test_no_import_cycles():
    graph = import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_nothing_imports_the_old_top_level_names():
    old = ("model", "score", "stream_server", "client_py", "client_web", "benchmarks")
    offenders = []
    for path in [*REPO.glob("*/**/*.py")]:
        if path.relative_to(REPO).parts[0].startswith("."):  # .venv, and the peers' venvs in .peers (setup.sh)
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else [])
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in old]
    assert offenders == []
