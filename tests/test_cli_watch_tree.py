"""'aiozkreg watch PATH --tree': the whole subtree, live, fitted to the terminal."""

from __future__ import annotations

import asyncio
import signal
import subprocess

from cli_run import command
from terminal import Terminal

from aiozkreg import Perm, Registry, make_digest_acl

TREE = "/svc : web\n  threads = 1\n  /providers\n    /a\n      port = 1\n"


async def _blocks_until(stdout: asyncio.StreamReader, expected: str) -> None:
    """Read blocks (each ends with a blank line) until ``expected`` is one of them."""
    seen: list[str] = []
    try:
        async with asyncio.timeout(15):
            while True:
                lines = []
                while (line := (await stdout.readline()).decode()) not in ("\n", ""):
                    lines.append(line)
                assert lines, f"watch stopped printing after {seen}"
                seen.append("".join(lines))
                if seen[-1] == expected:
                    return
    except TimeoutError:
        raise AssertionError(f"never shown: {expected!r}; shown: {seen}") from None


async def test_watch_tree_shows_every_change_in_the_subtree(zookeeper_hosts: str) -> None:
    """Each change anywhere below PATH (a node added deep down, a property, the root
    deleted and made again) is a new block of the whole subtree; SIGINT exits 0."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree(TREE)
        proc = await asyncio.create_subprocess_exec(
            *command("aiozkreg", "watch", zookeeper_hosts, "/svc", "--tree"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        head = "# {} nodes, {} ephemeral\n"
        try:
            await _blocks_until(proc.stdout, head.format(3, 0) + TREE)
            await zk.create("/svc/providers/b", b'{"port": 2}', ephemeral=True)
            await _blocks_until(proc.stdout, head.format(4, 1) + TREE + "    /b\n      port = 2\n")
            await zk.set("/svc", b'{"type": "web", "threads": 2}')
            await _blocks_until(
                proc.stdout,
                head.format(4, 1)
                + TREE.replace("threads = 1", "threads = 2")
                + "    /b\n      port = 2\n",
            )
            await zk.delete_recursive("/svc", force=True)
            await _blocks_until(
                proc.stdout, "# /svc does not exist; waiting for it to be created\n"
            )
            await zk.create("/svc", b'{"back": true}')
            await _blocks_until(proc.stdout, head.format(1, 0) + "/svc\n  back = True\n")
            proc.send_signal(signal.SIGINT)
            async with asyncio.timeout(15):
                assert await proc.wait() == 0
            assert await proc.stderr.read() == b""
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_watch_tree_names_what_the_session_may_not_read(zookeeper_hosts: str) -> None:
    """A node the watching session may not read is named in the header, not drawn."""
    admin_auth = [("digest", "admin:secret")]
    async with Registry(zookeeper_hosts, auth=admin_auth) as zk:
        await zk.import_tree(TREE)
        secret = [make_digest_acl("admin", "secret", Perm.ALL)]
        await zk.create("/svc/providers/hidden", b'{"port": 9}', acl=secret)
        proc = await asyncio.create_subprocess_exec(
            *command("aiozkreg", "watch", zookeeper_hosts, "/svc", "--tree"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        try:
            await _blocks_until(
                proc.stdout,
                "# 3 nodes, 0 ephemeral\n"
                "# left out, this session may not read: /svc/providers/hidden\n" + TREE,
            )
        finally:
            proc.kill()
            await proc.wait()
            await zk.delete("/svc/providers/hidden")  # the harness's clean-up may not read it


def _frames(output: str) -> list[list[str]]:
    return [frame.split("\r\n") for frame in output.split("\x1b[H\x1b[2J")[1:]]


def test_watch_tree_fits_the_terminal(zookeeper_hosts: str) -> None:
    """On a terminal the subtree is drawn under the header, rows cut to the width, and the
    rows that do not fit counted on the last one."""
    value = "x" * 120
    providers = "".join(f"    /p{i:02}\n      weight = {i}\n" for i in range(20))

    async def setup() -> None:
        async with Registry(zookeeper_hosts) as zk:
            await zk.import_tree(f"/svc\n  note = {value!r}\n  /providers\n{providers}")

    asyncio.run(setup())
    argv = command("aiozkreg", "watch", zookeeper_hosts, "/svc", "--tree")
    with Terminal(argv, rows=16, cols=50) as terminal:
        lines = 1 + 1 + 1 + 1 + 2 * 20  # the size line, /svc, note, /providers, 20 x 2
        more = f"... and {lines - (16 - 3)} more lines"
        shown = terminal.expect(lambda out: bool(_frames(out)) and _frames(out)[-1][-1] == more)
        screen = _frames(shown)[-1]
        assert len(screen) == 16
        assert screen[0].startswith(f"aiozkreg watch {zookeeper_hosts}"[:49])
        assert screen[1:5] == ["", "# 22 nodes, 0 ephemeral", "/svc", f"  note = '{'x' * 39}…"]
        assert all(len(row) <= 50 for row in screen)
        terminal.type(b"\x03")
        assert terminal.wait() == 0
