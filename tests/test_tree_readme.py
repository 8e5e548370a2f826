"""The reference README's tree, link, property-link, trim, dry-run, delete and walk
examples, in async form with Python 3 reprs, against the real server and the in-memory one.

One scenario, as in the README: each step builds on the state the last one left.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from readme_trees import (
    PROPERTY_LINK_TEXT,
    README_EXPORT,
    RELATIVE_LINK_TEXT,
    TREE_TEXT,
    TREE_TEXT_2,
)

from aiozkreg import ACL, BadPropertyLink, LinkLoop, NoNodeError, Perm, Registry, parse_tree
from aiozkreg.testing import settle

FOO = {"database": "/databases/foomain", "threads": 1, "favorite_color": "red"}


def _pid(text: str) -> str:
    return re.sub(r"pid = \d+", "pid = 9999", text)


@pytest.fixture
async def zk(hosts: str) -> AsyncIterator[Registry]:
    """A registry with the reference's /fooservice node (set like the README leaves it)."""
    async with Registry(hosts) as registry:
        await registry.create("/fooservice", json.dumps(FOO).encode())
        await registry.create("/fooservice/providers")
        await (await registry.properties("/fooservice", watch=False)).set(threads=3, secret="1234")
        for port in (8080, 8081, 8082):
            await registry.register("/fooservice/providers", ("192.168.0.42", port))
        yield registry


EXPORT_TRIMMED = """\
/cms : z4m cms
  threads = 4
  /databases
    /main
      /providers
  /providers
/fooservice
  secret = '1234'
  threads = 3
  /providers
/lb : ipvs
  /pools
    /cms
      address = '1.2.3.4:80'
      providers -> /cms/providers
/retail : z4m retail
  threads = 1
  /databases
    main -> /cms/databases/main
    /ugc
      /providers
  /providers
"""


async def test_import_export_trim_delete(zk: Registry) -> None:
    """Import, export (whole and partial, with ephemerals), re-import, trim, delete_recursive."""
    assert await zk.import_tree(TREE_TEXT) == []
    assert await zk.export_tree() == README_EXPORT
    assert await zk.export_tree("/fooservice") == (
        "/fooservice\n  secret = '1234'\n  threads = 3\n  /providers\n"
    )
    assert _pid(await zk.export_tree("/fooservice", ephemeral=True)) == (
        "/fooservice\n  secret = '1234'\n  threads = 3\n  /providers\n"
        "    /192.168.0.42:8080\n      pid = 9999\n"
        "    /192.168.0.42:8081\n      pid = 9999\n"
        "    /192.168.0.42:8082\n      pid = 9999\n"
    )

    changes = await zk.import_tree(TREE_TEXT_2)
    assert [str(c) for c in changes] == ["extra path not trimmed: /lb/pools/retail"]
    assert (await zk.export_tree()).replace("threads = 4", "threads = 3", 1) == README_EXPORT

    dry = await zk.import_tree(TREE_TEXT_2, trim=True, dry_run=True)
    assert [str(c) for c in dry] == ["would delete /lb/pools/retail."]
    assert await zk.import_tree(TREE_TEXT_2, trim=False) == []
    dry = await zk.import_tree(TREE_TEXT_2, trim=True, dry_run=True)
    assert [str(c) for c in dry] == ["would delete /lb/pools/retail."]
    assert await zk.import_tree(TREE_TEXT_2, trim=True) == []
    assert await zk.export_tree() == EXPORT_TRIMMED

    assert await zk.delete_recursive("/retail") == []
    assert "/retail" not in await zk.export_tree()

    changes = await zk.delete_recursive("/fooservice")
    assert [str(c) for c in changes] == [
        "Not deleting /fooservice/providers/192.168.0.42:8080 because it's ephemeral.",
        "Not deleting /fooservice/providers/192.168.0.42:8081 because it's ephemeral.",
        "Not deleting /fooservice/providers/192.168.0.42:8082 because it's ephemeral.",
        "/fooservice/providers not deleted due to ephemeral descendent.",
        "/fooservice not deleted due to ephemeral descendent.",
    ]
    assert await zk.exists("/fooservice") is not None
    dry = await zk.delete_recursive("/fooservice", dry_run=True)
    assert (
        str(dry[0])
        == "wouldn't delete /fooservice/providers/192.168.0.42:8080 because it's ephemeral."
    )
    # force deletes ephemeral nodes too (live registrations would come straight back,
    # so this uses a plain ephemeral node)
    for registration in zk.registrations:
        await registration.unregister()
    await zk.create("/fooservice/providers/stale", ephemeral=True)
    assert await zk.delete_recursive("/fooservice", force=True) == []
    assert await zk.exists("/fooservice") is None


async def test_import_changes_are_logged(zk: Registry, caplog: pytest.LogCaptureFixture) -> None:
    """import_tree logs each change record on the aiozkreg logger."""
    await zk.import_tree(TREE_TEXT)
    with caplog.at_level("INFO", logger="aiozkreg"):
        await zk.import_tree(TREE_TEXT_2)
    assert "extra path not trimmed: /lb/pools/retail" in caplog.messages


async def test_symlinks_and_views_following_moved_nodes(zk: Registry) -> None:
    """resolve() follows links; views follow their path when the node moves behind a link."""
    await zk.import_tree(TREE_TEXT_2)
    assert await zk.resolve("/lb/pools/cms/providers") == "/cms/providers"
    await zk.register("/cms/providers", "1.2.3.4:5")
    assert await zk.resolve("/lb/pools/cms/providers/1.2.3.4:5") == "/cms/providers/1.2.3.4:5"

    main_children = await zk.children("/cms/databases/main")
    main_properties = await zk.properties("/cms/databases/main")
    assert main_children.path == main_children.real_path == "/cms/databases/main"
    assert main_properties.real_path == "/cms/databases/main"

    export = await zk.export_tree("/cms/databases/main", name="cms")
    assert export == "/cms\n  /providers\n"
    assert await zk.create("/databases") == "/databases"
    await zk.import_tree(export, "/databases")
    assert await zk.export_tree("/databases") == "/databases\n  /cms\n    /providers\n"

    await zk.ln("/databases/cms", "/cms/databases/main")
    assert await zk.get_properties("/cms/databases") == {"main ->": "/databases/cms"}

    await zk.delete_recursive("/cms/databases/main")
    await settle(zk)
    assert main_children.path == "/cms/databases/main"
    assert main_children.real_path == "/databases/cms"
    assert main_properties.real_path == "/databases/cms"
    assert sorted(main_children) == ["providers"]
    await zk.delete("/databases/cms/providers")
    await settle(zk)
    assert sorted(main_children) == []
    assert dict(main_properties) == {}
    await (await zk.properties("/databases/cms")).set(a=1)
    await settle(zk)
    assert dict(main_properties) == {"a": 1}
    assert not main_children.deleted


async def test_views_follow_a_changed_link(zk: Registry) -> None:
    """A view through a symlink re-reads from the new place when the link changes."""
    await zk.import_tree(
        "/one\n  /kids\n    /a\n/two\n  /kids\n    /b\n/app\n  kids -> /one/kids\n"
    )
    view = await zk.children("/app/kids")
    assert (view.real_path, list(view)) == ("/one/kids", ["a"])
    await zk.ln("/two/kids", "/app/kids")
    await settle(zk)
    assert (view.real_path, list(view)) == ("/two/kids", ["b"])


async def test_relative_links_and_shadowing(zk: Registry) -> None:
    """Relative links, '.', '..'; a real child shadows a link; bad paths raise NoNodeError."""
    await zk.import_tree(RELATIVE_LINK_TEXT)
    assert await zk.resolve("/a/b/l") == "/a/b/c"
    assert await zk.resolve("/a/b/l2") == "/a/c"
    assert await zk.resolve("/a/b/./l/../l2") == "/a/c"
    await zk.ln("/a/c", "/a/b/c")  # a link named like the real child /a/b/c
    assert await zk.resolve("/a/b/c") == "/a/b/c"
    with pytest.raises(NoNodeError):
        await zk.resolve("/a/b/nowhere")
    await zk.ln("/a/x/", "/a/b/")  # trailing slash: keep the source's name
    assert (await zk.get_properties("/a/b"))["x ->"] == "/a/x/"
    await zk.delete_recursive("/a")


async def test_link_loops(zk: Registry) -> None:
    """Symlinks that point at each other raise LinkLoop."""
    await zk.import_tree("/loop\n  a -> /loop/b\n  b -> /loop/a\n")
    with pytest.raises(LinkLoop):
        await zk.resolve("/loop/a")


async def test_property_links(zk: Registry) -> None:
    """Property links resolve on read, notify on the linked change, and are checked on write."""
    await zk.create("/test-property-links")
    await zk.import_tree(PROPERTY_LINK_TEXT, "/test-property-links")
    properties = await zk.properties("/test-property-links/cms")
    assert properties["threads =>"] == "/fooservice threads"
    assert properties["threads"] == 3  # relative to the real /fooservice (absolute link)
    assert "threads" in properties and "threads" in list(properties)

    changes = await zk.import_tree("/cms\n  threads => /fooservice\n", "/test-property-links")
    assert [str(c) for c in changes] == [
        "extra path not trimmed: /test-property-links/cms/databases",
        "extra path not trimmed: /test-property-links/cms/providers",
    ]
    await settle(zk)
    assert properties["threads =>"] == "/fooservice"
    assert properties["threads"] == 3

    calls: list[Any] = []
    properties(lambda p: calls.append(p["threads"]))
    await (await zk.properties("/fooservice", watch=False)).update(threads=7)
    await settle(zk)
    assert calls[-1] == 7 and properties["threads"] == 7

    with pytest.raises(ValueError, match="Bad property link"):
        await properties.update({"color =>": "/nowhere color"})
    assert "color =>" not in await zk.get_properties("/test-property-links/cms")
    await zk.delete_recursive("/test-property-links")


async def test_property_link_loops_and_bad_links(zk: Registry) -> None:
    """Looping or broken property links raise BadPropertyLink on read, not at open."""
    await zk.create("/pl", json.dumps({"a =>": "/pl b", "b =>": "/pl a", "c =>": "/nope"}).encode())
    view = await zk.properties("/pl")
    with pytest.raises(BadPropertyLink) as caught:
        view["a"]
    assert isinstance(caught.value.__cause__, LinkLoop)
    with pytest.raises(BadPropertyLink):
        view["c"]
    assert set(view) == {"a", "b", "c"}


async def test_property_links_export_and_import_back(zk: Registry) -> None:
    """A property link survives export then import (the reference's did not)."""
    await zk.create("/src")
    await zk.import_tree(PROPERTY_LINK_TEXT, "/src")
    text = await zk.export_tree("/src/cms", name="cms")
    assert "threads => /fooservice threads" in text
    await zk.create("/dst")
    await zk.import_tree(text, "/dst")
    assert (await zk.get_properties("/dst/cms"))["threads =>"] == "/fooservice threads"


async def test_walk(zk: Registry) -> None:
    """walk: preorder and sorted; ephemeral=False and children pruning at every depth;
    changes made during the walk show up."""
    await zk.import_tree("/fooservice\n  /provision\n    /node1\n    /node2\n")
    paths = [p async for p in zk.walk("/fooservice")]
    assert paths == [
        "/fooservice",
        "/fooservice/providers",
        "/fooservice/providers/192.168.0.42:8080",
        "/fooservice/providers/192.168.0.42:8081",
        "/fooservice/providers/192.168.0.42:8082",
        "/fooservice/provision",
        "/fooservice/provision/node1",
        "/fooservice/provision/node2",
    ]
    no_eph = [p async for p in zk.walk("/fooservice", ephemeral=False)]
    assert no_eph == [p for p in paths if "192.168" not in p]

    walker = zk.walk("/fooservice", children=True)
    path, children = await anext(walker)
    assert (path, children) == ("/fooservice", ["providers", "provision"])
    del children[0]
    rest = []
    async for path, kids in walker:
        rest.append(path)
        if path == "/fooservice/provision":
            kids.remove("node1")  # pruning works below the top too
    assert rest == ["/fooservice/provision", "/fooservice/provision/node2"]

    seen = []
    async for path in zk.walk("/fooservice"):
        seen.append(path)
        if "provision" in await zk.get_children(path):
            await zk.delete_recursive(path + "/provision")
    assert seen == paths[:5]
    whole = [p async for p in zk.walk()]
    assert whole[0] == "/" and "/fooservice" in whole


async def test_parse_tree_children(zk: Registry) -> None:
    """parse_tree gives the model: sorted children, types as the 'type' property."""
    tree = parse_tree(TREE_TEXT_2)
    assert sorted(tree.children) == ["cms", "lb"]
    assert tree.children["lb"].properties == {"type": "ipvs"}


async def test_import_is_atomic_per_syntax(zk: Registry) -> None:
    """Malformed tree text raises TreeSyntaxError with the line and writes nothing."""
    from aiozkreg import TreeSyntaxError

    before = await zk.export_tree()
    with pytest.raises(TreeSyntaxError) as caught:
        await zk.import_tree("/ok\n  /fine\n/bad\n  x = __import__('os').getpid()\n")
    assert caught.value.lineno == 4
    assert await zk.export_tree() == before


async def test_import_failing_halfway_reports_what_was_applied(zk: Registry) -> None:
    """An import that fails part way raises TreeImportError listing what was applied."""
    from aiozkreg import TreeImportError

    await zk.create("/locked", acl=[ACL(Perm.READ, "world", "anyone")])  # no children
    with pytest.raises(TreeImportError) as caught:
        await zk.import_tree("/aaa\n/locked\n  /child\n")
    assert caught.value.failed == "create /locked/child"
    assert "create /aaa" in caught.value.applied
    assert "failed at 'create /locked/child'" in str(caught.value)


async def test_bulk_import_export_walk_delete(zk: Registry) -> None:
    """A 600-node tree imports, exports, walks and deletes level by level, correctly."""
    lines = ["/bulk"]
    for i in range(20):
        lines.append(f"  /s{i:02d}\n    n = {i}")
        lines += [f"    /c{j:02d}\n      v = 'x'" for j in range(29)]
    text = "\n".join(lines) + "\n"
    await zk.import_tree(text)
    exported = await zk.export_tree("/bulk")
    assert exported == await asyncio.to_thread(_normalise, text)
    assert len([p async for p in zk.walk("/bulk")]) == 1 + 20 * 30
    assert await zk.delete_recursive("/bulk") == []
    assert await zk.exists("/bulk") is None
    assert os.getpid() > 0


def _normalise(text: str) -> str:
    from aiozkreg import format_tree

    return format_tree(parse_tree(text))


async def test_print_tree(zk: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    """print_tree prints the export with ephemeral nodes."""
    await zk.print_tree("/fooservice")
    out = _pid(capsys.readouterr().out)
    assert out.startswith("/fooservice\n  secret = '1234'\n")
    assert "    /192.168.0.42:8080\n      pid = 9999\n" in out


async def test_import_applies_acls(zk: Registry) -> None:
    """import_tree(acl=...) creates nodes with that ACL and updates existing ones."""
    from aiozkreg import ACL, OPEN_ACL_UNSAFE, Perm

    read_write = [ACL(Perm.READ | Perm.WRITE | Perm.CREATE | Perm.DELETE, "world", "anyone")]
    await zk.import_tree("/acl\n  /kid\n")
    assert tuple((await zk.get_acls("/acl/kid"))[0]) == OPEN_ACL_UNSAFE
    await zk.import_tree("/acl\n  /kid\n  /new\n", acl=read_write)
    assert (await zk.get_acls("/acl/new"))[0] == read_write
    assert (await zk.get_acls("/acl/kid"))[0] == read_write


async def test_relative_property_links(zk: Registry) -> None:
    """A relative property link is followed from the view's path; '..' works."""
    await zk.import_tree(
        "/app\n  threads = 8\n  /worker\n    threads => .. threads\n    size => ../db\n"
        "  /db\n    size = 'large'\n"
    )
    worker = await zk.properties("/app/worker")
    assert worker["threads"] == 8
    assert worker["size"] == "large"


async def test_failed_batch_is_applied_op_by_op(zk: Registry) -> None:
    """When one write of a batch fails, the others are still applied and reported."""
    from aiozkreg import ACL, Perm, TreeImportError

    await zk.create("/locked", acl=[ACL(Perm.READ, "world", "anyone")])
    with pytest.raises(TreeImportError) as caught:
        await zk.import_tree("/ok\n  /x\n  /z\n/locked\n  /y\n")
    assert caught.value.failed == "create /locked/y"
    assert {"create /ok", "create /ok/x", "create /ok/z"} <= set(caught.value.applied)
    assert sorted(await zk.get_children("/ok")) == ["x", "z"]


# --- beyond the README: names the text quotes, ZooKeeper's own node ----------------------

ODD_PROPERTIES = {
    "#hash": 1,
    "/slash": 2,
    "a -> b": 3,
    "key with spaces": 4,
    "a=b": 5,
    " padded ": 6,
    "": 7,
    "x ->": 8,
    "my link ->": "/odd",
    "plink =>": "/a b c",
    "type": "two\nlines",
}


async def test_quoted_names_survive_export_and_import(zk: Registry) -> None:
    """Names bare text cannot carry export quoted and import back unchanged, through ZooKeeper."""
    await zk.create("/odd", json.dumps(ODD_PROPERTIES).encode())
    await zk.create("/odd/node name", b'{"k": 1}')
    await zk.create("/odd/'quoted'")
    text = await zk.export_tree("/odd")
    assert "/'node name'\n" in text and "  '#hash' = 1\n" in text
    await zk.import_tree(await zk.export_tree("/odd", name="copy"))
    copy = parse_tree(await zk.export_tree("/copy", name="odd"))
    assert copy == parse_tree(text)
    assert copy.children["odd"].properties == ODD_PROPERTIES
    assert sorted(await zk.get_children("/copy")) == ["'quoted'", "node name"]
    # Nothing differs; the one report is the property link that is not 'path [property]'.
    assert [str(change) for change in await zk.import_tree(text, dry_run=True)] == [
        "/odd property link plink => /a b c cannot be followed: Bad link data for 'plink =>': "
        "'/a b c' (want 'path [property]')."
    ]


async def _zookeeper_state(client: Registry) -> dict[str, Any]:
    """Every node under the server's /zookeeper with its stat: any write would show."""
    return {path: await client.exists(path) async for path in client.walk("/zookeeper")}


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("/zookeeper\n  x = 1\n", "/"),
        ("/zookeeper\n  /quota\n    /evil\n", "/"),
        ("/zookeeper\n", "/"),
        ("/x\n", "/zookeeper"),
        ("/x\n", "/zookeeper/quota"),
        ("/quota\n  x = 1\n", "/zookeeper/"),
    ],
)
@pytest.mark.parametrize("options", [{}, {"dry_run": True}, {"trim": True}])
async def test_import_never_writes_into_zookeeper(
    zookeeper_server: Any, zookeeper_chroot: str, text: str, path: str, options: dict[str, Any]
) -> None:
    """Without a chroot, text naming /zookeeper or a path in it is refused; nothing is written."""
    mine = zookeeper_chroot.lstrip("/")
    async with (
        Registry(zookeeper_server.address) as zk,
        Registry(zookeeper_server.address) as other,
    ):
        before = await _zookeeper_state(other)
        with pytest.raises(ValueError, match="/zookeeper is ZooKeeper's own node") as info:
            await zk.import_tree(
                f"/{mine}\n  /mine\n" + text if path == "/" else text, path, **options
            )
        assert "\n" not in str(info.value)
        assert await _zookeeper_state(other) == before
        assert await other.get_children(zookeeper_chroot) == []  # not even the rest of the text


async def test_trim_at_the_root_leaves_zookeeper_alone(
    zookeeper_server: Any, zookeeper_chroot: str
) -> None:
    """A trimming import at / without a chroot leaves /zookeeper (never named) untouched."""
    mine = zookeeper_chroot.lstrip("/")
    async with (
        Registry(zookeeper_server.address) as zk,
        Registry(zookeeper_server.address) as other,
    ):
        before = await _zookeeper_state(other)
        await zk.import_tree(f"/{mine}\n  /kept\n", "/", trim=True)
        await zk.import_tree(f"/{mine}\n", "/", trim=True)
        assert await _zookeeper_state(other) == before
        assert await other.get_children(zookeeper_chroot) == []  # /kept was trimmed


async def test_zookeeper_under_a_chroot_is_an_ordinary_node(
    zookeeper_server: Any, zookeeper_hosts: str, zookeeper_chroot: str
) -> None:
    """With a chroot, a node called zookeeper is chroot/zookeeper: imported like any other."""
    async with Registry(zookeeper_hosts) as zk, Registry(zookeeper_server.address) as other:
        before = await _zookeeper_state(other)
        await zk.import_tree("/zookeeper\n  x = 1\n  /child\n")
        await zk.import_tree("/more\n", "/zookeeper/child")
        assert await zk.export_tree() == "/zookeeper\n  x = 1\n  /child\n    /more\n"
        assert await other.get_children(f"{zookeeper_chroot}/zookeeper") == ["child"]
        assert await _zookeeper_state(other) == before
