"""The commands on a terminal (a pseudo-terminal): Ctrl-C, and 'aiozkreg watch' drawing."""

from __future__ import annotations

import asyncio

import pytest
from cli_run import command
from terminal import Terminal

from aiozkreg import Registry


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("zookeeper_validate", ["-"]),
        ("zookeeper_import", ["HOSTS", "-"]),
        ("aiozkreg", ["graph", "-f", "-"]),
        ("aiozkreg", ["import", "HOSTS", "-"]),
    ],
)
def test_one_ctrl_c_ends_a_read_from_the_terminal(
    name: str, args: list[str], zookeeper_hosts: str
) -> None:
    """A command reading tree text from the terminal ends at the first Ctrl-C: 130, one line."""
    argv = command(name, *(zookeeper_hosts if a == "HOSTS" else a for a in args))
    prog = name if name != "aiozkreg" else f"aiozkreg {args[0]}"
    with Terminal(argv) as terminal:
        terminal.expect(lambda out: "(Ctrl-D ends it)\r\n" in out)
        terminal.type(b"/a\n  x = 1\n")  # half a tree: the command keeps reading
        terminal.expect(lambda out: "x = 1" in out)
        terminal.type(b"\x03")
        assert terminal.wait() == 130
    lines = terminal.output.decode().replace("^C", "").split("\r\n")
    assert [line for line in lines if line.strip()] == [
        f"{prog}: reading tree text from the terminal (Ctrl-D ends it)",
        "/a",
        "  x = 1",  # the terminal's echo of what was typed
        f"{prog}: error: interrupted",
    ]


def frames(output: str) -> list[list[str]]:
    """The screens 'aiozkreg watch' drew, each as its rows."""
    return [frame.split("\r\n") for frame in output.split("\x1b[H\x1b[2J")[1:]]


def test_watch_fits_the_terminal_and_redraws_when_resized(zookeeper_hosts: str) -> None:
    """Rows are cut to the width with a marker, the header stays on top; a resize redraws."""
    value = "v" * 150
    children = "".join(f"  /c{i:02}\n" for i in range(30))

    async def setup() -> None:
        async with Registry(zookeeper_hosts) as zk:
            await zk.import_tree(f"/svc\n  value = {value!r}\n  threads = 1\n{children}")

    asyncio.run(setup())
    lines = 2 + 1 + 30  # the node line, two properties, thirty children
    argv = command("aiozkreg", "watch", zookeeper_hosts, "/svc")
    with Terminal(argv, rows=24, cols=80) as terminal:
        for rows, cols in [(24, 80), (12, 40)]:
            if (rows, cols) != (24, 80):
                terminal.resize(rows, cols)
            more = f"... and {lines - (rows - 3)} more lines"
            shown = terminal.expect(
                lambda out, more=more: frames(out) and frames(out)[-1][-1] == more
            )
            screen = frames(shown)[-1]
            assert len(screen) == rows
            assert screen[0].startswith(f"aiozkreg watch {zookeeper_hosts}"[: cols - 1])
            assert screen[1:3] == ["", "/svc"]
            assert all(len(row) <= cols for row in screen), screen  # no wide characters here
            assert screen[4] == f"  value = '{value}"[: cols - 1] + "…"
            assert len(screen[4]) == cols
        terminal.type(b"\x03")
        assert terminal.wait() == 0
