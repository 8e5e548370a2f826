"""The commands and links: property links beside keys, --delete, link checks, symlinked paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cli_run import run

from aiozkreg import Registry

TREE = """\
/shared
  threads = 3
/svc
  threads = 8
  db -> /shared
  'my key' = 1
/lb
  /pools
    /cms
      providers -> /cms/providers
/cms
  /providers
    /a
    /b
"""


@pytest.fixture
async def zk(zookeeper_hosts: str) -> AsyncIterator[Registry]:
    """A registry on the test's chroot, holding TREE."""
    async with Registry(zookeeper_hosts) as registry:
        await registry.import_tree(TREE)
        yield registry


async def test_set_refuses_a_property_link_beside_its_key(
    zk: Registry, zookeeper_hosts: str
) -> None:
    """set of 'NAME =>' where NAME is a key is one line, exit 2, nothing written."""
    before = await zk.get_properties("/svc")
    for name in ("zookeeper_set_property", "aiozkreg"):
        args = ["set"] if name == "aiozkreg" else []
        result = await run(name, *args, zookeeper_hosts, "/svc", "threads =>='/shared threads'")
        assert result.code == 2, result
        assert result.error_line().endswith(
            "error: The property 'threads' and the property link 'threads =>' cannot both be "
            "set on /svc: the property would hide the link. Remove one of them first."
        )
    assert await zk.get_properties("/svc") == before


async def test_set_delete_removes_properties_in_the_same_write(
    zk: Registry, zookeeper_hosts: str
) -> None:
    """--delete removes properties, links and quoted names; with NAME=LITERAL, in one write."""
    h = zookeeper_hosts
    linked = await run(
        "aiozkreg", "set", h, "/svc", "threads =>='/shared threads'", "--delete", "threads"
    )
    assert (linked.code, linked.err) == (0, "")
    assert linked.out == "/svc\n  'my key' = 1\n  threads => /shared threads\n  db -> /shared\n"
    view = await zk.properties("/svc", watch=False)
    assert view["threads"] == 3
    removed = await run(
        "zookeeper_set_property", "-q", h, "/svc", "--delete", "db ->", "'my key'", "nope"
    )
    assert (removed.code, removed.out, removed.err) == (0, "", "")
    assert await zk.get_properties("/svc") == {"threads =>": "/shared threads"}
    through_link = await run("aiozkreg", "set", "-q", h, "/lb/pools/cms/providers", "x=1")
    assert through_link.code == 0
    unlinked = await run(
        "aiozkreg", "set", "-q", h, "/lb/pools/cms/providers", "--delete", "x", "--delete", "y"
    )
    assert unlinked.code == 0
    assert await zk.get_properties("/cms/providers") == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--delete", "threads", "x=1"], "'x=1' is not a NAME to delete (NAME=LITERAL arguments "
         "go before --delete)"),
        (["x=1", "--delete", "x"], "'x' is both set and deleted"),
        (["--delete", "key with spaces"], "quoted as tree text does: \"'key with spaces'\""),
        (["--delete", "'unclosed"], "expected a NAME to delete"),
        ([], "give at least one NAME=LITERAL or --delete NAME"),
    ],
)  # fmt: skip
async def test_set_delete_bad_input_is_one_line_exit_2(
    zk: Registry, zookeeper_hosts: str, args: list[str], message: str
) -> None:
    """A bad --delete NAME is one line, exit 2, and nothing is written."""
    before = await zk.get_properties("/svc")
    result = await run("aiozkreg", "set", zookeeper_hosts, "/svc", *args)
    assert result.code == 2, result
    assert message in result.error_line()
    assert await zk.get_properties("/svc") == before


LINKS = """\
/app
  fine => /shared threads
  missing => /nowhere threads
  unset => /shared nothing
  through => /svc/db threads
"""


async def test_import_prints_the_property_links_it_leaves_unfollowable(
    zk: Registry, zookeeper_hosts: str
) -> None:
    """zookeeper_import prints a line per property link that cannot be followed; exit 0."""
    h = zookeeper_hosts
    dry = await run("zookeeper_import", "-d", h, "-", stdin=LINKS)
    real = await run("zookeeper_import", h, "-", stdin=LINKS)
    warnings = [
        "/app property link missing => /nowhere threads cannot be followed: there is no node "
        "/nowhere",
        "/app property link unset => /shared nothing cannot be followed: /shared has no "
        "property 'nothing'",
    ]
    assert (dry.code, dry.err) == (0, ""), dry
    assert dry.out.splitlines() == ["add /app", *warnings]
    assert (real.code, real.err) == (0, ""), real
    assert real.out.splitlines() == warnings
    assert (await zk.properties("/app"))["through"] == 3


async def test_validate_checks_the_links_that_stay_inside_the_file(tmp_path: Path) -> None:
    """zookeeper_validate refuses a link inside the file that cannot be followed; others pass."""
    bad = tmp_path / "bad.txt"
    bad.write_text("/shared\n  threads = 3\n/app\n  a => /shared threads\n  b => ../shared b\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("/app\n  a => /elsewhere threads\n  b => /app/child b\n")
    placed = tmp_path / "placed.txt"
    placed.write_text("/shared\n  threads = 3\n/app\n  a => /svc/shared threads\n")
    results = await asyncio.gather(
        run("zookeeper_validate", str(bad)),
        run("aiozkreg", "validate", "-", stdin=bad.read_text()),
        run("zookeeper_validate", str(outside)),
        run("zookeeper_validate", str(placed), "/svc"),
        run("zookeeper_validate", str(placed), "/other"),
    )
    message = (
        "{}: /app: the property link 'b =>' ('../shared b') cannot be followed: /shared has "
        "no property 'b'"
    )
    assert results[0].code == 2
    assert results[0].error_line() == "zookeeper_validate: error: " + message.format(bad)
    assert results[1].code == 2
    assert results[1].error_line() == "aiozkreg validate: error: " + message.format("<stdin>")
    assert [(r.code, r.out, r.err) for r in results[2:]] == [(0, "", "")] * 3


async def test_export_and_graph_follow_a_symlinked_path(zk: Registry, zookeeper_hosts: str) -> None:
    """export and graph of a path through a symlink show the real node and say which it is."""
    h = zookeeper_hosts
    note = "/lb/pools/cms/providers is a link to /cms/providers"
    export, named, dot, mermaid = await asyncio.gather(
        run("zookeeper_export", h, "/lb/pools/cms/providers"),
        run("aiozkreg", "export", "--name", "p", h, "/lb/pools/cms/providers"),
        run("aiozkreg", "graph", h, "/lb/pools/cms/providers"),
        run("aiozkreg", "graph", "--format", "mermaid", h, "/lb/pools/cms/providers"),
    )
    for result in (export, named, dot, mermaid):
        assert (result.code, result.err) == (0, ""), result
    assert export.out == f"# {note}\n/providers\n  /a\n  /b\n"
    assert named.out == f"# {note}\n/p\n  /a\n  /b\n"
    assert dot.out.startswith(f"digraph g {{\n  // {note}\n")
    assert '"/cms/providers/a"' in dot.out
    assert mermaid.out.startswith(f"flowchart LR\n  %% {note}\n")
    plain = await run("zookeeper_export", h, "/cms/providers")
    assert plain.out == "/providers\n  /a\n  /b\n"
