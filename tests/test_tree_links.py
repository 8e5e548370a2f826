"""Property links an import leaves that cannot be followed: found in a file, and after an import."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aiozkreg import Change, ChangeAction, Registry, parse_tree
from aiozkreg._link_check import unfollowable_in_file


def warnings(changes: list[Change]) -> list[str]:
    return [str(c) for c in changes if c.action is ChangeAction.BAD_PROPERTY_LINK]


FILE = """\
/a
  x => /b x
  y => /b
  z => ../b
  v => /a/l v
  l -> /b
  q => /a q2
  q2 => /a q
  out => /c w
  kid => /a/nokid n
  'n =>' = 5
/b
  x = 1
"""


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        (FILE, "/", [
            "/a property link n => 5 cannot be followed: Bad link data for 'n =>': 5 is not a "
            "string.",
            "/a property link q => /a q2 cannot be followed: the links form a loop: /a q -> "
            "/a q2 -> /a q",
            "/a property link q2 => /a q cannot be followed: the links form a loop: /a q2 -> "
            "/a q -> /a q2",
            "/a property link v => /a/l v cannot be followed: /b has no property 'v'",
            "/a property link y => /b cannot be followed: /b has no property 'y'",
            "/a property link z => ../b cannot be followed: /b has no property 'z'",
        ]),
        ("/a\n  x => /app/b y\n/b\n  x = 1\n", "/app", [
            "/app/a property link x => /app/b y cannot be followed: /app/b has no property 'y'",
        ]),
        ("/a\n  x => /b y\n/b\n  x = 1\n", "/app", []),  # /b is not in the file there
        ("/a\n  x => /b x\n/b\n  x => /a x\n", "/", [
            "/a property link x => /b x cannot be followed: the links form a loop: /a x -> "
            "/b x -> /a x",
            "/b property link x => /a x cannot be followed: the links form a loop: /b x -> "
            "/a x -> /b x",
        ]),
        ("/a\n  x => /b x\n/b\n  x => /c x\n", "/", []),  # /c: outside the file
    ],
)  # fmt: skip
def test_links_that_stay_inside_a_file_are_checked(
    text: str, base: str, expected: list[str]
) -> None:
    """Only what the file holds is checked; a link reaching outside it is left alone."""
    assert warnings(unfollowable_in_file(parse_tree(text), base)) == expected


@pytest.fixture
async def zk(hosts: str) -> AsyncIterator[Registry]:
    async with Registry(hosts) as registry:
        await registry.import_tree("/shared\n  threads = 3\n/svc\n  db -> /shared\n")
        yield registry


async def test_import_reports_links_that_cannot_be_followed_after_it(zk: Registry) -> None:
    """A dry or real import returns a bad_property_link change per such link, and writes it."""
    text = (
        "/app\n  a => /shared threads\n  b => /svc/db threads\n  c => /svc/db nothing\n"
        "  d => /missing x\n  e => /app/kid e\n  /kid\n    e => /app f\n"
    )
    expected = [
        Change(
            ChangeAction.BAD_PROPERTY_LINK,
            "/app",
            "c =>",
            new="/svc/db nothing",
            note="/shared has no property 'nothing'",
        ),
        Change(
            ChangeAction.BAD_PROPERTY_LINK,
            "/app",
            "d =>",
            new="/missing x",
            note="there is no node /missing",
        ),
        Change(
            ChangeAction.BAD_PROPERTY_LINK,
            "/app",
            "e =>",
            new="/app/kid e",
            note="/app has no property 'f'",
        ),
        Change(
            ChangeAction.BAD_PROPERTY_LINK,
            "/app/kid",
            "e =>",
            new="/app f",
            note="/app has no property 'f'",
        ),
    ]
    dry = await zk.import_tree(text, dry_run=True)
    assert dry == [Change(ChangeAction.ADD_NODE, "/app"), *expected]
    assert await zk.exists("/app") is None
    assert await zk.import_tree(text) == expected
    assert (await zk.get_properties("/app"))["d =>"] == "/missing x"
    await (await zk.properties("/shared", watch=False)).update(nothing=0)
    assert await zk.import_tree(text) == expected[1:]


async def test_a_link_to_a_node_the_import_creates_is_fine(zk: Registry) -> None:
    """Links are checked against the tree as the import leaves it, new nodes included."""
    text = "/app\n  a => /app/new threads\n  /new\n    threads = 1\n"
    assert await zk.import_tree(text, dry_run=True) == [Change(ChangeAction.ADD_NODE, "/app")]
    assert await zk.import_tree(text) == []
