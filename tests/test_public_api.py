"""The public surface: explicit, sorted, and aiozk-free."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import aiozkreg
import aiozkreg.testing


def test_all_is_explicit_and_importable() -> None:
    """__all__ lists each name once (ruff keeps it sorted) and every name in it exists."""
    for module in (aiozkreg, aiozkreg.testing):
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), name


def test_api_contract_names_are_exported() -> None:
    """The names the contract promises are importable from aiozkreg itself."""
    for name in [
        "Registry", "parse_tree", "RegisteringServer", "event", "ZKRegError",
        "FailedConnect", "NoNodeError", "NodeExistsError", "LinkLoop",
        "BadPropertyLink", "TreeSyntaxError", "BadVersionError", "NotEmptyError",
        "NoAuthError", "ConnectionLossError", "SessionExpiredError",
    ]:  # fmt: skip
        assert name in aiozkreg.__all__, name


def test_every_exception_has_one_root_and_no_aiozk() -> None:
    """Every exported exception derives from ZKRegError; nothing exported comes from aiozk."""
    for name in aiozkreg.__all__:
        value = getattr(aiozkreg, name)
        if inspect.isclass(value) and issubclass(value, BaseException):
            assert issubclass(value, aiozkreg.ZKRegError), name
        module = getattr(value, "__module__", "") or ""
        assert not module.startswith("aiozk."), name
    assert issubclass(aiozkreg.TreeSyntaxError, ValueError)
    assert issubclass(aiozkreg.InvalidPathError, ValueError)
    assert issubclass(aiozkreg.RequestTooLargeError, ValueError)


def test_every_exception_is_drawn_in_the_hierarchy() -> None:
    """Every exported exception appears in the tree of _errors' docstring and docs/errors.md."""
    from aiozkreg import _errors

    docs = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text()
    for name in aiozkreg.__all__:
        value = getattr(aiozkreg, name)
        if inspect.isclass(value) and issubclass(value, BaseException):
            drawn = re.compile(rf"^[│├└─ ]*{name}\b", re.MULTILINE)
            assert drawn.search(_errors.__doc__ or ""), name
            assert drawn.search(docs), name


def test_version_comes_from_metadata() -> None:
    """__version__ is the installed distribution's version."""
    from importlib.metadata import version

    assert aiozkreg.__version__ == version("aiozkreg")


def test_zope_event_subscribers_see_events(tmp_path: Path) -> None:
    """With zope.event installed, aiozkreg.event.notify is zope.event's own."""
    package = tmp_path / "zope" / "event"
    package.mkdir(parents=True)
    (tmp_path / "zope" / "__init__.py").write_text("")
    (package / "__init__.py").write_text(
        "subscribers = []\ndef notify(event):\n    for s in subscribers:\n        s(event)\n"
    )
    code = textwrap.dedent(
        """
        import zope.event
        from aiozkreg import event
        seen = []
        zope.event.subscribers.append(seen.append)
        event.notify("hello")
        assert event.notify is zope.event.notify and seen == ["hello"], seen
        """
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
