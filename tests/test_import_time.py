"""``import aiozkreg`` is cheap: public names load on first use, and each is the real thing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import aiozkreg

INIT = Path(aiozkreg.__file__)


def _fresh(code: str) -> str:
    """What ``code`` prints in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_import_loads_neither_asyncio_nor_metadata_nor_submodules() -> None:
    """A bare ``import aiozkreg`` reads __init__ only: no asyncio, importlib.metadata, submodule."""
    loaded = _fresh(
        "import sys, aiozkreg; print(' '.join(sorted(m for m in sys.modules if m in "
        "('asyncio', 'importlib.metadata') or m.startswith('aiozkreg.'))))"
    )
    assert loaded == ""


def test_a_name_loads_what_it_needs_and_version_loads_metadata() -> None:
    """The first use of a name imports its module; __version__ alone imports importlib.metadata."""
    loaded = _fresh(
        "import sys, aiozkreg; aiozkreg.TreeSyntaxError; a = 'asyncio' in sys.modules; "
        "aiozkreg.__version__; print(a, 'importlib.metadata' in sys.modules, "
        "'aiozkreg._errors' in sys.modules)"
    )
    assert loaded == "False True True"


def test_lazy_table_type_checking_imports_and_all_agree() -> None:
    """The names imported for type checkers, the runtime table and __all__ are the same set."""
    tree = ast.parse(INIT.read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    typed: dict[str, str] = {}
    for node in block.body:
        if isinstance(node, ast.AnnAssign):  # __version__: str
            continue
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.unparse(node)
        for alias in node.names:
            typed[alias.name] = node.module or alias.name
    public = set(aiozkreg.__all__) - {"__version__"}
    assert set(typed) == public
    assert {name: typed[name] for name in aiozkreg._EXPORTS} == aiozkreg._EXPORTS
    assert set(aiozkreg._EXPORTS) == public - {"event"}


@pytest.mark.parametrize("name", sorted(set(aiozkreg.__all__) - {"__version__", "event"}))
def test_each_name_is_the_object_its_module_defines(name: str) -> None:
    """``aiozkreg.NAME`` is the very object in the module the table names."""
    value = getattr(aiozkreg, name)
    module = sys.modules[f"aiozkreg.{aiozkreg._EXPORTS[name]}"]
    assert value is getattr(module, name)


def test_event_unknown_names_and_dir() -> None:
    """``event`` is the module; an unknown name is an AttributeError; dir() lists every name."""
    import aiozkreg.event

    assert aiozkreg.event is sys.modules["aiozkreg.event"]
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        aiozkreg.Nope  # noqa: B018
    assert set(aiozkreg.__all__) <= set(dir(aiozkreg))
