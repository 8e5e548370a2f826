"""The console scripts and the ``aiozkreg`` command, run as subprocesses against a real server."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cli_run import command, run
from readme_trees import TREE_TEXT

from aiozkreg import ACL, Perm, Registry, _cli
from aiozkreg._cli_common import node_text

# The tree of the reference README at the point where its script sections start.
README_STATE = """\
/cms : z4m cms
  threads = 4
  /databases
    main -> /databases/cms
  /providers
/databases
  /cms
    a = 1
/fooservice
  secret = '1234'
  threads = 3
  /providers
/lb : ipvs
  /pools
    /cms
      address = '1.2.3.4:80'
      providers -> /cms/providers
"""

PID = os.getpid()  # the registrations below are made by this process
FOOSERVICE_EPHEMERAL = f"""\
/fooservice
  secret = '1234'
  threads = 3
  /providers
    /192.168.0.42:8080
      pid = {PID}
    /192.168.0.42:8081
      pid = {PID}
    /192.168.0.42:8082
      pid = {PID}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def readme(zookeeper_hosts: str) -> AsyncIterator[Registry]:
    """The README's tree, with its three fooservice providers and one cms provider."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree(README_STATE)
        for port in (8080, 8081, 8082):
            await zk.register("/fooservice/providers", ("192.168.0.42", port))
        await zk.register("/cms/providers", "1.2.3.4:5")
        yield zk


async def test_export_script_reference_examples(
    readme: Registry, zookeeper_hosts: str, tmp_path: Path
) -> None:
    """zookeeper_export: -e, PATH, the whole tree, -o FILE, --name: what export_tree gives."""
    h = zookeeper_hosts
    ephemeral, path, whole, to_file, named, umbrella = await asyncio.gather(
        run("zookeeper_export", "-e", h, "/fooservice"),
        run("zookeeper_export", h, "/fooservice"),
        run("zookeeper_export", h),
        run("zookeeper_export", h, "/fooservice", "-oo", cwd=tmp_path),
        run("zookeeper_export", "--name", "copy", h, "/databases/cms"),
        run("aiozkreg", "export", "--ephemeral", h, "/fooservice"),
    )
    for result in (ephemeral, path, whole, to_file, named, umbrella):
        assert (result.code, result.err) == (0, ""), result
    assert ephemeral.out == FOOSERVICE_EPHEMERAL
    assert umbrella.out == FOOSERVICE_EPHEMERAL
    assert path.out == "/fooservice\n  secret = '1234'\n  threads = 3\n  /providers\n"
    assert whole.out == README_STATE
    assert to_file.out == ""
    assert (tmp_path / "o").read_text() == path.out
    assert named.out == "/copy\n  a = 1\n"


async def test_import_script_reference_examples(
    readme: Registry, zookeeper_hosts: str, tmp_path: Path
) -> None:
    """zookeeper_import: a file into a path, stdin with '-', -d, -t, --no-trim and -p (README)."""
    h = zookeeper_hosts
    (tmp_path / "mytree.txt").write_text("/provision\n  /node1\n  /node2\n")
    result = await run("zookeeper_import", h, "mytree.txt", "/fooservice", cwd=tmp_path)
    assert (result.code, result.out, result.err) == (0, "", "")
    assert await readme.export_tree("/fooservice", ephemeral=True) == (
        FOOSERVICE_EPHEMERAL + "  /provision\n    /node1\n    /node2\n"
    )
    before = await readme.export_tree(ephemeral=True)

    into_path, into_root, trim = await asyncio.gather(
        run("zookeeper_import", "-d", h, "-", "/fooservice", stdin="/x\n/y"),
        run("zookeeper_import", "-d", h, stdin="/x\n/y"),
        run("zookeeper_import", "-dt", h, "-", "/fooservice", stdin="/provision\n/y"),
    )
    assert into_path.out == "add /fooservice/x\nadd /fooservice/y\n"
    assert into_root.out == "add /x\nadd /y\n"
    assert trim.out == (
        "would delete /fooservice/provision/node1.\n"
        "would delete /fooservice/provision/node2.\n"
        "add /fooservice/y\n"
    )
    assert {(r.code, r.err) for r in (into_path, into_root, trim)} == {(0, "")}
    assert await readme.export_tree(ephemeral=True) == before  # dry runs change nothing

    warned = await run("zookeeper_import", h, "-", "/fooservice", stdin="/provision\n/y")
    assert warned.out == (
        "extra path not trimmed: /fooservice/provision/node1\n"
        "extra path not trimmed: /fooservice/provision/node2\n"
    )
    quiet = await run("aiozkreg", "import", "--no-trim", h, "-", "/fooservice", stdin="/provision")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")
    trimmed = await run("zookeeper_import", "-t", h, "-", "/fooservice", stdin="/provision\n/y")
    assert (trimmed.code, trimmed.out, trimmed.err) == (0, "", "")
    assert sorted(await readme.get_children("/fooservice")) == ["providers", "provision", "y"]
    assert await readme.get_children("/fooservice/provision") == []

    read_only = await run("zookeeper_import", "-p", "1", h, "-", "/", stdin="/ro\n  a = 1\n")
    assert read_only.code == 0, read_only
    acl, _ = await readme.get_acls("/ro")
    assert acl == [ACL(Perm.READ, "world", "anyone")]
    assert await readme.get_properties("/ro") == {"a": 1}


async def test_set_property_script(readme: Registry, zookeeper_hosts: str) -> None:
    """zookeeper_set_property merges literals (strings, numbers, booleans...), prints the node."""
    h = zookeeper_hosts
    result = await run(
        "zookeeper_set_property", h, "/fooservice", "threads=4", "debug=True", "comment='ok'"
    )
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "/fooservice\n  comment = 'ok'\n  debug = True\n  secret = '1234'\n  threads = 4\n"
    )
    assert await readme.export_tree("/fooservice", ephemeral=True) == FOOSERVICE_EPHEMERAL.replace(
        "  secret = '1234'\n  threads = 3\n",
        "  comment = 'ok'\n  debug = True\n  secret = '1234'\n  threads = 4\n",
    )

    more = await run(
        "aiozkreg",
        "set",
        "-q",
        h,
        "/cms",
        "ratio=-0.5",
        "tags=['a', 'b']",
        "limits={'max': 3}",
        "nothing=None",
        "owner = 'ops team'",
        "threads =>='/fooservice threads'",
        "--delete",
        "threads",  # the key would hide the link: both go in one write
    )
    assert (more.code, more.out, more.err) == (0, "", "")
    assert await readme.get_properties("/cms") == {
        "type": "z4m cms",
        "ratio": -0.5,
        "tags": ["a", "b"],
        "limits": {"max": 3},
        "nothing": None,
        "owner": "ops team",
        "threads =>": "/fooservice threads",
    }
    via_link = await run("zookeeper_set_property", h, "/lb/pools/cms/providers", "weight=2")
    assert via_link.code == 0, via_link
    assert (await readme.get_properties("/cms/providers"))["weight"] == 2


async def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    readme: Registry, zookeeper_hosts: str, tmp_path: Path
) -> None:
    """Bad arguments, tree text or literals: exit 2, one stderr line, no traceback, no writes."""
    h = zookeeper_hosts
    bad = tmp_path / "bad.txt"
    bad.write_text("/a\n  x = 1\n    /b\n")
    before = await readme.export_tree(ephemeral=True)
    cases: list[tuple[str, list[str], str | None, str]] = [
        ("zookeeper_import", [h, str(bad), "/fooservice"], None,
         f"zookeeper_import: error: {bad}:3: Can't indent under properties: '/b'"),
        ("zookeeper_import", [h, "-", "/fooservice"], "/ok\n  x -> a b\n",
         "zookeeper_import: error: <stdin>:2: Bad link format"),
        ("zookeeper_import", [h, str(tmp_path / "missing.txt")], None,
         "zookeeper_import: error: cannot read"),
        ("zookeeper_import", ["-p", "99", h], "", "permission bits are 0 to 31"),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "comment=ok"], None,
         "to set a string, quote it for the shell: \"comment='ok'\""),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "x=__import__('os')"], None,
         "is not a Python literal"),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "t=(1, 2)"], None,
         "cannot be stored as JSON"),
        ("zookeeper_set_property", [h, "/fooservice", "threads"], None,
         "expected NAME=LITERAL, got 'threads'"),
        ("zookeeper_set_property", [h, "/fooservice", "a=1", "a=2"], None, "'a' is given twice"),
        ("zookeeper_set_property", [h, "/fooservice"], None,
         "give at least one NAME=LITERAL or --delete NAME"),
        ("aiozkreg", ["set", h, "/fooservice", "threads=5", "x =>='/nowhere x'"], None,
         "aiozkreg set: error: bad property link 'x =>'"),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "#hash=2"], None,
         "'#hash' cannot be written as a bare name"),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "/slash=3"], None,
         "quote it as a Python string, as tree text does: \"'/slash'=3\""),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "key with spaces=1"], None,
         "\"'key with spaces'=1\""),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "a -> b=4"], None,
         "\"'a -> b'=4\""),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "x=>='/a'"], None,
         "a property link NAME =>=..., with a blank"),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "'x=1"], None,
         "a quoted name is a one-line Python string literal"),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "x=1e999"], None,
         "inf is not a finite number"),
        ("zookeeper_set_property", [h, "/fooservice", "threads=5", "x=[-1e999]"], None,
         "-inf is not a finite number"),
        ("zookeeper_import", [h, "-", "/fooservice"], "/n\n  x = 1e999\n",
         "zookeeper_import: error: <stdin>:2: The value '1e999' cannot be stored as JSON"),
        ("zookeeper_export", ["--bogus", h], None, "unrecognized arguments: --bogus"),
        ("zookeeper_export", [h, "fooservice"], None, "a ZooKeeper path starts with '/'"),
        ("zookeeper_export", ["127.0.0.1:99999"], None, "bad HOSTS '127.0.0.1:99999'"),
        ("zookeeper_export", ["--timeout", "0", h], None, "positive number of seconds"),
        ("zookeeper_validate", [str(bad)], None, f"zookeeper_validate: error: {bad}:3: "),
        ("aiozkreg", ["validate", "-"], "/a\n  = 1\n", "aiozkreg validate: error: <stdin>:2: "),
        ("aiozkreg", [], None, "aiozkreg: error: the following arguments are required: COMMAND"),
        ("aiozkreg", ["frobnicate"], None, "invalid choice: 'frobnicate'"),
        ("aiozkreg", ["export"], None, "aiozkreg export: error: the following arguments"),
        ("aiozkreg", ["graph"], None, "give HOSTS [PATH] (a live tree) or --file FILE"),
        ("aiozkreg", ["watch", h], None, "required: PATH"),
    ]  # fmt: skip
    results = await asyncio.gather(
        *(run(name, *args, stdin=stdin) for name, args, stdin, _ in cases)
    )
    for (name, args, _, message), result in zip(cases, results, strict=True):
        assert result.code == 2, (name, args, result)
        assert message in result.error_line(), (name, args, result)
        assert result.out == "", (name, args, result)
    assert await readme.export_tree(ephemeral=True) == before


async def test_set_property_names_export_and_import_back(
    readme: Registry, zookeeper_hosts: str
) -> None:
    """Every name zookeeper_set_property accepts (quoted where needed) exports and re-imports."""
    h = zookeeper_hosts
    result = await run(
        "zookeeper_set_property",
        h,
        "/fooservice",
        "'key with spaces'=1",
        "'#hash' = 2",
        "'/slash'=3",
        "'a -> b'=4",
        "'a=b'='c=d'",
        "' padded '=6",
        "'my link' ->='/databases'",
        "'' ->='/x y'",
        "p =>='/cms threads'",
        "x->=7",
    )
    assert (result.code, result.err) == (0, "")
    expected = {
        "secret": "1234",
        "threads": 3,
        "key with spaces": 1,
        "#hash": 2,
        "/slash": 3,
        "a -> b": 4,
        "a=b": "c=d",
        " padded ": 6,
        "my link ->": "/databases",
        " ->": "/x y",
        "p =>": "/cms threads",
        "x->": 7,
    }
    assert await readme.get_properties("/fooservice") == expected
    exported = await run("zookeeper_export", h, "/fooservice")
    assert exported.out == (
        "/fooservice\n"
        "  ' padded ' = 6\n"
        "  '#hash' = 2\n"
        "  '/slash' = 3\n"
        "  'a -> b' = 4\n"
        "  'a=b' = 'c=d'\n"
        "  'key with spaces' = 1\n"
        "  p => /cms threads\n"
        "  secret = '1234'\n"
        "  threads = 3\n"
        "  x-> = 7\n"
        "  ' ->' = '/x y'\n"  # a link whose target is two words is written whole
        "  'my link' -> /databases\n"
        "  /providers\n"
    )
    assert result.out == exported.out.replace("  /providers\n", "")  # what set printed
    same = await run("zookeeper_import", "-d", "--no-trim", h, "-", "/", stdin=exported.out)
    assert (same.code, same.out, same.err) == (0, "", "")  # a dry run finds nothing to change
    copy = await run("zookeeper_export", "--name", "copy", h, "/fooservice")
    imported = await run("zookeeper_import", h, "-", "/", stdin=copy.out)
    assert (imported.code, imported.err) == (0, "")
    assert await readme.get_properties("/copy") == expected
    valid = await run("zookeeper_validate", "-", stdin=exported.out)
    assert (valid.code, valid.out, valid.err) == (0, "", "")


async def test_export_of_data_tree_text_cannot_hold_is_one_line_exit_1(
    readme: Registry, zookeeper_hosts: str
) -> None:
    """NaN written by another tool: export fails naming the node and key, writes no text."""
    await readme.create("/fooservice/odd", b'{"ok":1,"x":NaN}')
    results = await asyncio.gather(
        run("zookeeper_export", zookeeper_hosts, "/fooservice"),
        run("aiozkreg", "graph", zookeeper_hosts, "/fooservice"),
    )
    for result in results:
        assert result.code == 1, result
        assert "Cannot export the property 'x' of /fooservice/odd: nan is not a finite" in (
            result.error_line()
        )
        assert result.out == ""
    shown = node_text("/fooservice/odd", await readme.get_properties("/fooservice/odd"))
    assert shown == [
        "/fooservice/odd",
        "  # x = nan (not JSON: tree text cannot hold it)",
        "  ok = 1",
    ]


async def test_import_into_zookeeper_is_one_line_exit_2(
    zookeeper_server: Any, zookeeper_chroot: str
) -> None:
    """Without a chroot, zookeeper_import of text naming /zookeeper (or into it) exits 2."""
    h = zookeeper_server.address
    async with Registry(h) as other:
        before = {p: await other.exists(p) async for p in other.walk("/zookeeper")}
        results = await asyncio.gather(
            run(
                "zookeeper_import", h, "-", "/", stdin=f"{zookeeper_chroot}\n/zookeeper\n  x = 1\n"
            ),
            run("zookeeper_import", "-d", h, "-", "/", stdin="/zookeeper\n  /quota\n"),
            run("zookeeper_import", h, "-", "/zookeeper", stdin="/x\n"),
            run("aiozkreg", "import", "-t", h, "-", "/zookeeper/quota", stdin="/x\n"),
        )
        for result in results:
            assert result.code == 2, result
            assert "is ZooKeeper's own node, and an import never writes there" in (
                result.error_line()
            )
            assert result.out == ""
        assert {p: await other.exists(p) async for p in other.walk("/zookeeper")} == before
        assert await other.get_children(zookeeper_chroot) == []


async def test_failures_are_one_line_exit_1(readme: Registry, zookeeper_hosts: str) -> None:
    """A missing node or an unreachable server: exit 1 with one line, within --timeout."""
    h = zookeeper_hosts
    dead = f"127.0.0.1:{free_port()}"
    cases: list[tuple[str, list[str], str | None, str]] = [
        ("zookeeper_export", [h, "/nope"], None, "zookeeper_export: error: /nope: no such node"),
        ("zookeeper_import", [h, "-", "/nope"], "/x\n", "/nope: no such node"),
        ("zookeeper_set_property", [h, "/nope", "x=1"], None, "/nope: no such node"),
        ("aiozkreg", ["watch", h, "/nope"], None, "aiozkreg watch: error: /nope: no such node"),
        ("aiozkreg", ["graph", h, "/nope"], None, "/nope: no such node"),
    ]
    unreachable = f"Can't connect to ZooKeeper at '{dead}' within 1 s."
    for name, args in [
        ("zookeeper_export", ["--timeout", "1", dead]),
        ("zookeeper_import", ["--timeout", "1", dead, "-", "/"]),
        ("zookeeper_set_property", ["--timeout", "1", dead, "/a", "x=1"]),
        ("aiozkreg", ["watch", "--timeout", "1", dead, "/a"]),
        ("aiozkreg", ["graph", "--timeout", "1", dead]),
    ]:
        cases.append((name, args, "/x\n", f"error: {unreachable}"))
    results = await asyncio.gather(
        *(run(name, *args, stdin=stdin) for name, args, stdin, _ in cases)
    )
    for (name, args, _, message), result in zip(cases, results, strict=True):
        assert result.code == 1, (name, args, result)
        assert result.error_line().endswith(message), (name, args, result)
        assert result.out == "", (name, args, result)
        # ten processes start at once on two cores: well under the 10 s an ignored
        # --timeout would take (the default connect limit), with room for a loaded machine
        assert result.seconds < 8, (name, args, result)

    debug = await run("zookeeper_export", "--debug", "--timeout", "1", dead)
    assert debug.code == 1
    assert "Traceback" in debug.err and debug.err.endswith(f"error: {unreachable}\n")


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--help of every script and subcommand, and --version, print usage and return 0."""
    scripts = [
        (_cli.export_main, []),
        (_cli.import_main, []),
        (_cli.set_property_main, []),
        (_cli.validate_main, []),
        *((_cli.main, [name]) for name in _SUBCOMMANDS),
        (_cli.main, []),
    ]
    for main, args in scripts:
        assert main([*args, "--help"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: "), out
        assert "--debug" in out
    assert _cli.main(["--version"]) == 0
    assert re.fullmatch(r"aiozkreg \S+\n", capsys.readouterr().out)


_SUBCOMMANDS = ["export", "import", "set", "validate", "watch", "graph", "demo", "serve"]


async def test_validate(tmp_path: Path) -> None:
    """zookeeper_validate and 'aiozkreg validate' are silent and exit 0 for a valid tree."""
    good = tmp_path / "tree.txt"
    good.write_text(TREE_TEXT)
    results = await asyncio.gather(
        run("zookeeper_validate", str(good)),
        run("zookeeper_validate", "-", stdin=TREE_TEXT),
        run("aiozkreg", "validate", str(good)),
    )
    assert {(r.code, r.out, r.err) for r in results} == {(0, "", "")}


async def test_watch_shows_each_change_until_interrupted(zookeeper_hosts: str) -> None:
    """'aiozkreg watch' prints a block per state (children, properties, deletion) until SIGINT."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree("/svc : web\n  threads = 1\n  /providers\n")
        proc = await asyncio.create_subprocess_exec(
            *command("aiozkreg", "watch", zookeeper_hosts, "/svc"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        stdout = proc.stdout

        async def shows(expected: str) -> None:
            """Read blocks (each ends with a blank line) until ``expected`` is one of them."""
            async with asyncio.timeout(15):
                while True:
                    lines = []
                    while (line := (await stdout.readline()).decode()) not in ("\n", ""):
                        lines.append(line)
                    assert lines, "watch stopped printing"
                    if "".join(lines) == expected:
                        return

        try:
            await shows("/svc : web\n  threads = 1\n  /providers\n")
            await (await zk.properties("/svc", watch=False)).update(threads=2)
            await shows("/svc : web\n  threads = 2\n  /providers\n")
            await zk.create("/svc/extra")
            await shows("/svc : web\n  threads = 2\n  /extra\n  /providers\n")
            await zk.delete_recursive("/svc")
            await shows("# /svc does not exist; waiting for it to be created\n")
            await zk.create("/svc", b'{"back": true}')
            await shows("/svc\n  back = True\n")
            proc.send_signal(signal.SIGINT)
            async with asyncio.timeout(15):
                assert await proc.wait() == 0
            assert await proc.stderr.read() == b""
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


def test_watch_on_a_terminal_redraws_in_place(zookeeper_hosts: str) -> None:
    """On a TTY, watch clears the screen and redraws under a header; Ctrl-C exits 0."""

    async def setup() -> None:
        async with Registry(zookeeper_hosts) as zk:
            await zk.import_tree("/lb\n  app -> /app\n/app\n  threads = 7\n")

    asyncio.run(setup())
    master, slave = pty.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 132, 0, 0))
    proc = subprocess.Popen(
        command("aiozkreg", "watch", zookeeper_hosts, "/lb/app"),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 15
        while b"threads = 7" not in seen:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"no redraw within 15 s: {seen!r}"
            seen += os.read(master, 65536)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        assert proc.stderr is not None and proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = seen.decode()
    assert text.startswith("\x1b[H\x1b[2J")
    assert f"aiozkreg watch {zookeeper_hosts} /lb/app" in text
    assert "# /lb/app is a link to /app" in text
    assert "Ctrl-C to stop" in text


def dot_edges(dot: str) -> list[tuple[str, str, str]]:
    return re.findall(r'^  "([^"]*)" -> "([^"]*)"(?: \[(.*)\])?;$', dot, re.MULTILINE)


README_EDGES = [
    ("/cms", "/cms/databases", "arrowhead=none, color=gray"),
    ("/cms/databases", "/cms/databases/main", "arrowhead=none, color=gray"),
    ("/lb", "/lb/pools", "arrowhead=none, color=gray"),
    ("/lb/pools", "/lb/pools/cms", "arrowhead=none, color=gray"),
    ("/lb/pools/cms", "/cms", 'label="providers"'),
    ("/lb/pools", "/lb/pools/retail", "arrowhead=none, color=gray"),
    ("/lb/pools/retail", "/cms", 'label="providers"'),
    ("/retail", "/retail/databases", "arrowhead=none, color=gray"),
    ("/retail/databases", "/cms/databases/main", 'label="main"'),
    ("/retail/databases", "/retail/databases/ugc", "arrowhead=none, color=gray"),
]


async def test_graph_of_the_readme_tree(zookeeper_hosts: str, tmp_path: Path) -> None:
    """'aiozkreg graph' draws the README tree edge by edge, from a file or live, DOT or Mermaid."""
    h = zookeeper_hosts
    (tmp_path / "tree.txt").write_text(TREE_TEXT)
    async with Registry(h) as zk:
        await zk.import_tree(TREE_TEXT)
        await zk.register("/cms/providers", "1.2.3.4:5")
        services = "/app\n  db -> /db/providers\n  /providers\n/db\n  /providers\n"
        from_file, live, live_ephemeral, subtree, mermaid, uses = await asyncio.gather(
            run("aiozkreg", "graph", "--file", "tree.txt", cwd=tmp_path),
            run("aiozkreg", "graph", h),
            run("aiozkreg", "graph", "-e", h, "/cms"),
            run("aiozkreg", "graph", h, "/lb/pools"),
            run("aiozkreg", "graph", "--format", "mermaid", "-f", "-", stdin=TREE_TEXT),
            run("aiozkreg", "graph", "--file", "-", stdin=services),
        )
    for result in (from_file, live, live_ephemeral, subtree, mermaid, uses):
        assert (result.code, result.err) == (0, ""), result
    assert dot_edges(from_file.out) == README_EDGES
    assert from_file.out.startswith("digraph g {\n") and from_file.out.endswith("}\n")
    assert '  "/cms" [label="/cms\\nz4m cms", peripheries=2];\n' in from_file.out
    assert '  "/lb" [label="/lb\\nipvs", style=rounded];\n' in from_file.out
    assert live.out == from_file.out
    assert '"/cms" [label="/cms\\nz4m cms\\n1 provider", peripheries=2]' in live_ephemeral.out
    assert dot_edges(subtree.out) == [
        ("/lb/pools", "/lb/pools/cms", "arrowhead=none, color=gray"),
        ("/lb/pools/cms", "/cms", 'label="providers"'),
        ("/lb/pools", "/lb/pools/retail", "arrowhead=none, color=gray"),
        ("/lb/pools/retail", "/cms", 'label="providers"'),
    ]
    assert '  "/cms" [label="/cms", style=dashed];\n' in subtree.out  # not in the subtree
    # The reference's edge (service, link[:-10]) for a link to a providers node:
    assert dot_edges(uses.out) == [("/app", "/db", 'label="db", style=bold')]

    assert mermaid.out.startswith("flowchart LR\n")
    assert '  n0[["/cms<br/>z4m cms"]]\n' in mermaid.out
    vertices = re.findall(r'^  (n\d+)[\[(]+"([^"<]*)', mermaid.out, re.MULTILINE)
    paths = dict(vertices)
    arrows = re.findall(r"^  (n\d+) (\S+) (n\d+)$", mermaid.out, re.MULTILINE)
    assert [(paths[a], arrow, paths[b]) for a, arrow, b in arrows] == [
        (source, "---" if "gray" in style else f"-->|{style.removeprefix('label=')}|", target)
        for source, target, style in README_EDGES
    ]


async def test_demo_runs_to_completion(zookeeper_hosts: str) -> None:
    """'aiozkreg demo' runs examples/demo.py (here against the test's server) and exits 0."""
    result = await run("aiozkreg", "demo", env={"AIOZKREG_HOSTS": zookeeper_hosts}, timeout=90)
    assert result.code == 0, result.out + result.err
    assert "request 0 -> 'echo hello 0'" in result.out
    assert result.out.rstrip().endswith("done: every service stopped, every session closed")


def test_demo_missing_is_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Installed without the examples (from a wheel), 'aiozkreg demo' says so and exits 1."""
    monkeypatch.setattr(_cli, "DEMO", tmp_path / "examples" / "demo.py")
    assert _cli.main(["demo"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("aiozkreg demo: error: the demo is not installed")
    assert captured.err.count("\n") == 1
