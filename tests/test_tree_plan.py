"""Import and recursive-delete planning (aiozkreg._plan): messages, operations, order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readme_trees import TREE_TEXT, TREE_TEXT_2

from aiozkreg._encoding import decode_properties
from aiozkreg._plan import (
    Change,
    ChangeAction,
    CreateNode,
    DeleteNode,
    ExistingNode,
    Plan,
    SetAcl,
    SetData,
    children_to_load,
    plan_delete,
    plan_import,
    refuse_zookeeper,
)
from aiozkreg._tree import TextNode, parse_tree

PROVIDERS = ("192.168.0.42:8080", "192.168.0.42:8081", "192.168.0.42:8082")


def existing(tree: TextNode, ephemeral: Iterable[str] = (), path: str = "") -> ExistingNode:
    """An ExistingNode copy of ``tree``; the nodes at the ``ephemeral`` paths are ephemeral."""
    ephemeral = set(ephemeral)
    return ExistingNode(
        properties=dict(tree.properties),
        children={
            name: existing(child, ephemeral, f"{path}/{name}")
            for name, child in tree.children.items()
        },
        ephemeral=path in ephemeral,
    )


def readme_state(text: str = TREE_TEXT) -> ExistingNode:
    """ZooKeeper as in the README after importing ``text``: /fooservice with 3 registrations."""
    tree = parse_tree(text)
    tree.children["fooservice"] = parse_tree(
        "/fooservice\n  secret = '1234'\n  threads = 3\n  /providers\n"
        + "".join(f"    /{addr}\n      pid = 9999\n" for addr in PROVIDERS)
    ).children["fooservice"]
    tree.children["zookeeper"] = parse_tree("/zookeeper\n  /quota\n").children["zookeeper"]
    return existing(tree, [f"/fooservice/providers/{addr}" for addr in PROVIDERS])


def lines(plan: Plan) -> list[str]:
    return [str(change) for change in plan.changes]


# --- the README's scenarios ------------------------------------------------------


def test_first_import_creates_parents_before_children() -> None:
    """Importing into a tree without those nodes reports nothing and creates level by level."""
    before = readme_state("")
    plan = plan_import(parse_tree(TREE_TEXT), "/", before)
    assert lines(plan) == []
    assert plan.steps[0] == (
        CreateNode("/cms", b'{"type":"z4m cms","threads":3}'),
        CreateNode("/lb", b'{"type":"ipvs"}'),
        CreateNode("/retail", b'{"type":"z4m retail","threads":1}'),
    )
    assert [len(step) for step in plan.steps] == [3, 5, 4, 2]
    assert CreateNode("/lb/pools", b"{}") in plan.steps[1]
    assert (
        CreateNode("/lb/pools/retail", b'{"address":"1.2.3.5:80","providers ->":"/cms/providers"}')
        in plan.steps[2]
    )
    assert all(isinstance(op, CreateNode) for op in plan.operations)


def test_reimport_reports_extra_path_not_trimmed() -> None:
    """Re-importing without /lb/pools/retail warns about it; only changed data is set."""
    plan = plan_import(parse_tree(TREE_TEXT_2), "/", readme_state())
    assert lines(plan) == ["extra path not trimmed: /lb/pools/retail"]
    assert plan.changes[0] == Change(ChangeAction.EXTRA_PATH, "/lb/pools/retail")
    assert plan.steps == ((SetData("/cms", b'{"type":"z4m cms","threads":4}'),),)


def after_reimport() -> ExistingNode:
    """The README's state after importing TREE_TEXT then TREE_TEXT_2 without trimming."""
    state = readme_state()
    state.children["cms"].properties["threads"] = 4
    return state


def test_trim_dry_run_says_what_would_be_deleted() -> None:
    """trim=True with dry_run reports 'would delete /lb/pools/retail.' and plans nothing."""
    dry = plan_import(parse_tree(TREE_TEXT_2), "/", after_reimport(), trim=True, dry_run=True)
    assert lines(dry) == ["would delete /lb/pools/retail."]
    assert dry.changes == (Change(ChangeAction.WOULD_DELETE, "/lb/pools/retail"),)
    assert dry.steps == ()


def test_trim_false_says_nothing() -> None:
    """trim=False neither reports nor deletes extra paths."""
    plan = plan_import(parse_tree(TREE_TEXT_2), "/", after_reimport(), trim=False)
    assert plan == Plan()


def test_trim_deletes_extra_path() -> None:
    """trim=True deletes the extra path silently; top-level extras are never touched."""
    state = after_reimport()
    assert lines(plan_import(parse_tree(TREE_TEXT_2), "/", state, trim=True, dry_run=True)) == [
        "would delete /lb/pools/retail."
    ]
    plan = plan_import(parse_tree(TREE_TEXT_2), "/", state, trim=True)
    assert lines(plan) == []
    assert plan.steps == ((DeleteNode("/lb/pools/retail"),),)


def test_delete_recursive_children_first() -> None:
    """delete_recursive('/retail') deletes deepest nodes first and reports nothing."""
    state = readme_state().children["retail"]
    plan = plan_delete(state, "/retail")
    assert lines(plan) == []
    assert plan.steps == (
        (DeleteNode("/retail/databases/ugc/providers"),),
        (DeleteNode("/retail/databases/ugc"),),
        (DeleteNode("/retail/databases"), DeleteNode("/retail/providers")),
        (DeleteNode("/retail"),),
    )


def test_delete_recursive_keeps_ephemerals() -> None:
    """delete_recursive('/fooservice') keeps ephemerals and their ancestors, in README order."""
    plan = plan_delete(readme_state().children["fooservice"], "/fooservice")
    assert lines(plan) == [
        "Not deleting /fooservice/providers/192.168.0.42:8080 because it's ephemeral.",
        "Not deleting /fooservice/providers/192.168.0.42:8081 because it's ephemeral.",
        "Not deleting /fooservice/providers/192.168.0.42:8082 because it's ephemeral.",
        "/fooservice/providers not deleted due to ephemeral descendent.",
        "/fooservice not deleted due to ephemeral descendent.",
    ]
    assert plan.steps == ()


def test_delete_recursive_dry_run_with_ephemerals() -> None:
    """A dry run says it wouldn't delete the ephemeral nodes."""
    plan = plan_delete(readme_state().children["fooservice"], "/fooservice", dry_run=True)
    assert lines(plan)[0] == (
        "wouldn't delete /fooservice/providers/192.168.0.42:8080 because it's ephemeral."
    )
    assert lines(plan)[-1] == "/fooservice not deleted due to ephemeral descendent."


def test_delete_recursive_force() -> None:
    """force=True deletes ephemeral nodes too (reference test delete_recursive_force)."""
    state = existing(
        parse_tree("/fooservice\n  /providers\n    /a:b\n"), ["/fooservice/providers/a:b"]
    )
    dry = plan_delete(state.children["fooservice"], "/fooservice", dry_run=True, force=True)
    assert lines(dry) == [
        "would delete /fooservice/providers/a:b.",
        "would delete /fooservice/providers.",
        "would delete /fooservice.",
    ]
    plan = plan_delete(state.children["fooservice"], "/fooservice", force=True)
    assert plan.operations == (
        DeleteNode("/fooservice/providers/a:b"),
        DeleteNode("/fooservice/providers"),
        DeleteNode("/fooservice"),
    )


def test_delete_recursive_dry_run() -> None:
    """A dry run without ephemerals lists every node, children first (delete_recursive_dry_run)."""
    state = existing(parse_tree("/fooservice\n  threads = 1\n  /providers\n"))
    assert lines(plan_delete(state.children["fooservice"], "/fooservice", dry_run=True)) == [
        "would delete /fooservice/providers.",
        "would delete /fooservice.",
    ]


def test_ignore_if_ephemeral_only_silences_the_path_itself() -> None:
    """ignore_if_ephemeral hides the message for the path passed, not for its descendants."""
    leaf = ExistingNode(ephemeral=True)
    assert plan_delete(leaf, "/a", ignore_if_ephemeral=True) == Plan()
    assert lines(plan_delete(leaf, "/a")) == ["Not deleting /a because it's ephemeral."]
    parent = ExistingNode(children={"e": leaf})
    assert lines(plan_delete(parent, "/a", ignore_if_ephemeral=True)) == [
        "Not deleting /a/e because it's ephemeral.",
        "/a not deleted due to ephemeral descendent.",
    ]


def test_delete_at_root_joins_paths() -> None:
    """Deleting '/' names its children '/x', not '//x'."""
    plan = plan_delete(ExistingNode(children={"x": ExistingNode()}), "/", dry_run=True)
    assert lines(plan) == ["would delete /x.", "would delete /."]


def test_stdin_import_dry_run() -> None:
    """'/x\\n/y' dry-run imported at /fooservice or / reports 'add' for each new node."""
    state = readme_state()
    assert lines(
        plan_import(parse_tree("/x\n/y"), "/fooservice", state.children["fooservice"], dry_run=True)
    ) == [
        "add /fooservice/x",
        "add /fooservice/y",
    ]
    assert lines(plan_import(parse_tree("/x\n/y"), "/", state, dry_run=True)) == [
        "add /x",
        "add /y",
    ]


def test_trim_dry_run_at_path() -> None:
    """Trimming under /fooservice: provision's extra children go, providers (top level) stays."""
    fooservice = readme_state().children["fooservice"]
    fooservice.children["provision"] = ExistingNode(
        children={"node1": ExistingNode(), "node2": ExistingNode()}
    )
    plan = plan_import(
        parse_tree("/provision\n/y"), "/fooservice/", fooservice, trim=True, dry_run=True
    )
    assert lines(plan) == [
        "would delete /fooservice/provision/node1.",
        "would delete /fooservice/provision/node2.",
        "add /fooservice/y",
    ]
    real = plan_import(parse_tree("/provision\n/y"), "/fooservice", fooservice, trim=True)
    assert real.steps == (
        (CreateNode("/fooservice/y", b"{}"),),
        (DeleteNode("/fooservice/provision/node1"), DeleteNode("/fooservice/provision/node2")),
    )


def test_no_spam_when_not_trimming_ephemeral_nodes() -> None:
    """Trimming an extra path that is an ephemeral node says nothing and deletes nothing."""
    state = existing(
        parse_tree(
            "/fooservice\n  database = '/databases/foomain'\n  favorite_color = 'red'\n"
            "  threads = 1\n  /providers\n    /a:a\n      pid = 1234\n"
        ),
        ["/fooservice/providers/a:a"],
    )
    text = (
        "/fooservice\n  database = '/databases/foomain'\n  favorite_color = 'red'\n"
        "  threads = 1\n  /providers\n"
    )
    assert plan_import(parse_tree(text), "/", state, trim=True) == Plan()


def test_import_dry_run_reference_output() -> None:
    """The reference's import_dry_run test: property, link and node changes in its order."""
    state = existing(
        parse_tree("/test\n  a=1\n  b = 2\n  /c1\n    /c12\n  /c2\n  ae->  /x\n  ad->  /y\n")
    )
    text = "/test\n  a=2\n  /c1\n    /c12\n      a = 1\n      b -> /b\n      /c123\n  ae->  /z\n"
    plan = plan_import(parse_tree(text), "/", state, dry_run=True)
    assert lines(plan) == [
        "/test a change from 1 to 2",
        "/test remove link ad -> /y",
        "/test ae link change from /x to /z",
        "/test remove property b = 2",
        "extra path not trimmed: /test/c2",
        "/test/c1/c12 add property a = 1",
        "/test/c1/c12 add link b -> /b",
        "add /test/c1/c12/c123",
    ]
    assert plan.changes[2] == Change(ChangeAction.CHANGE_LINK, "/test", "ae ->", "/x", "/z")


def test_dry_run_value_formatting_and_property_links() -> None:
    """Values print with str() like the reference's %s; property links get their own wording."""
    state = existing(parse_tree("/n\n  s = 'old'\n  p => /a x\n  q => /b\n  l = [1]\n"))
    text = "/n\n  s = 'new'\n  p => /a y\n  r => /c\n  l = [1]\n  d = {'k': None}\n"
    assert lines(plan_import(parse_tree(text), "/", state, dry_run=True)) == [
        "/n p property link change from /a x to /a y",
        "/n remove property link q => /b",
        "/n s change from old to new",
        "/n add property d = {'k': None}",
        "/n add property link r => /c",
    ]


def test_changed_type_is_reported_and_set() -> None:
    """1, 1.0 and True are different values; key order is not a change."""
    state = existing(parse_tree("/n\n  a = 1\n  b = 2\n"))
    assert lines(
        plan_import(parse_tree("/n\n  a = True\n  b = 2\n"), "/", state, dry_run=True)
    ) == ["/n a change from 1 to True"]
    assert plan_import(parse_tree("/n\n  a = 1.0\n  b = 2\n"), "/", state).operations == (
        SetData("/n", b'{"a":1.0,"b":2}'),
    )
    assert plan_import(parse_tree("/n\n  b = 2\n  a = 1\n"), "/", state) == Plan()


def test_property_link_reimport() -> None:
    """The README's property-link re-import warns about the untrimmed children and sets the link."""
    state = existing(
        parse_tree("/cms : z4m cms\n  threads => /fooservice threads\n  /databases\n  /providers\n")
    )
    plan = plan_import(parse_tree("/cms\n  threads => /fooservice\n"), "/test-propery-links", state)
    assert lines(plan) == [
        "extra path not trimmed: /test-propery-links/cms/databases",
        "extra path not trimmed: /test-propery-links/cms/providers",
    ]
    (op,) = plan.operations
    assert op == SetData("/test-propery-links/cms", b'{"threads =>":"/fooservice"}')


def test_new_node_subtree_is_created_whole() -> None:
    """A new node is created with all its descendants and their data; a dry run names only it."""
    text = "/a\n  /b : t\n    x = 1\n    /c\n"
    dry = plan_import(parse_tree(text), "/", ExistingNode(), dry_run=True)
    assert lines(dry) == ["add /a"]
    plan = plan_import(parse_tree(text), "/", ExistingNode())
    assert plan.steps == (
        (CreateNode("/a", b"{}"),),
        (CreateNode("/a/b", b'{"type":"t","x":1}'),),
        (CreateNode("/a/b/c", b"{}"),),
    )


def test_acl_is_updated_only_where_known_and_different() -> None:
    """With an acl, existing nodes whose read ACL differs get SetAcl; unknown ACLs are left."""
    state = ExistingNode(
        children={
            "same": ExistingNode(acl="open"),
            "other": ExistingNode(acl="read"),
            "unknown": ExistingNode(),
        }
    )
    text = "/same\n/other\n/unknown\n/new\n"
    plan = plan_import(parse_tree(text), "/", state, acl="open")
    assert plan.steps == ((SetAcl("/other"), CreateNode("/new", b"{}")),)
    assert plan_import(parse_tree(text), "/", state).steps == ((CreateNode("/new", b"{}"),),)


def test_trim_keeps_nodes_holding_ephemerals() -> None:
    """Trimming never deletes a node with an ephemeral descendant, and says so."""
    state = existing(
        parse_tree("/a\n  /keep\n  /gone\n    /x\n  /busy\n    /e\n    /f\n"), ["/a/busy/e"]
    )
    plan = plan_import(parse_tree("/a\n  /keep\n"), "/", state, trim=True)
    assert lines(plan) == [
        "Not deleting /a/busy/e because it's ephemeral.",
        "/a/busy not deleted due to ephemeral descendent.",
    ]
    assert plan.steps == (
        (DeleteNode("/a/busy/f"), DeleteNode("/a/gone/x")),
        (DeleteNode("/a/gone"),),
    )


def test_children_to_load() -> None:
    """Only children the text names are loaded, plus extra subtrees below the top when trimming."""
    desired = parse_tree("/a\n  /b\n")
    assert children_to_load(desired, ["z", "a"], top=True, trim=True) == [
        ("a", desired.children["a"])
    ]
    a = desired.children["a"]
    assert children_to_load(a, ["c", "b"], top=False, trim=None) == [("b", a.children["b"])]
    assert children_to_load(a, ["c", "b"], top=False, trim=True) == [
        ("b", a.children["b"]),
        ("c", None),
    ]
    assert children_to_load(None, ["y", "x"], top=False, trim=True) == [("x", None), ("y", None)]


def test_existing_node_to_tree_drops_ephemerals() -> None:
    """ExistingNode.to_tree leaves ephemeral nodes out unless asked."""
    state = readme_state().children["fooservice"]
    assert state.holds_ephemeral()
    assert state.to_tree().children["providers"].children == {}
    assert len(state.to_tree(ephemeral=True).children["providers"].children) == 3


# --- ZooKeeper's own node ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "server_path", "message"),
    [
        ("/zookeeper\n", "/", "/", "Cannot import the tree text's /zookeeper at /:"),
        ("/a\n/zookeeper\n  x = 1\n", "/", "/", "Cannot import the tree text's /zookeeper"),
        ("/x\n", "/zookeeper", "/zookeeper", "Cannot import into /zookeeper:"),
        ("/x\n", "/zookeeper/quota", "/zookeeper/quota", "Cannot import into /zookeeper/quota:"),
        ("/x\n", "/", "/zookeeper", "Cannot import into / (/zookeeper on the server):"),
        ("/x\n", "/q", "/zookeeper/q", "Cannot import into /q (/zookeeper/q on the server):"),
    ],
)
def test_imports_into_zookeeper_are_refused(
    text: str, path: str, server_path: str, message: str
) -> None:
    """Text landing in the server's /zookeeper (chroot included) is refused, in one sentence."""
    with pytest.raises(ValueError, match="ZooKeeper's own node") as info:
        refuse_zookeeper(parse_tree(text), path, server_path)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "path", "server_path"),
    [
        ("/zookeeper\n", "/", "/app"),  # chroot /app: /app/zookeeper is an ordinary node
        ("/x\n", "/zookeeper", "/app/zookeeper"),
        ("/zookeeper2\n", "/", "/"),
        ("/x\n", "/zookeeperx", "/zookeeperx"),
        ("/zookeeper\n", "/a", "/a"),
    ],
)
def test_other_imports_are_allowed(text: str, path: str, server_path: str) -> None:
    """A node named zookeeper anywhere but the server's root, or a lookalike, is ordinary."""
    refuse_zookeeper(parse_tree(text), path, server_path)


def test_trim_at_root_never_touches_zookeeper() -> None:
    """Trimming at / never deletes top-level nodes the text does not name, /zookeeper included."""
    plan = plan_import(parse_tree(TREE_TEXT_2), "/", readme_state(), trim=True)
    assert not any(op.path.startswith("/zookeeper") for op in plan.operations)


# --- property: executing a plan produces the text's tree --------------------------

names = st.sampled_from("abcd")
shapes: st.SearchStrategy[TextNode] = st.recursive(
    st.builds(TextNode, st.dictionaries(st.sampled_from("xy"), st.integers(0, 2), max_size=2)),
    lambda inner: st.builds(
        TextNode,
        st.dictionaries(st.sampled_from("xy"), st.integers(0, 2), max_size=2),
        st.dictionaries(names, inner, max_size=3),
    ),
    max_leaves=12,
)


def _flatten(node: TextNode | ExistingNode, path: str = "") -> dict[str, dict[str, Any]]:
    flat = {path or "/": dict(node.properties)}
    for name, child in node.children.items():
        flat.update(_flatten(child, f"{path}/{name}"))
    return flat


def _run(plan: Plan, state: dict[str, dict[str, Any]]) -> None:
    """Apply ``plan`` to a flat path -> properties model, checking every step is safe."""
    for step in plan.steps:
        created = {op.path for op in step if isinstance(op, CreateNode)}
        deleted = {op.path for op in step if isinstance(op, DeleteNode)}
        for op in step:
            parent = op.path.rsplit("/", 1)[0] or "/"
            if isinstance(op, CreateNode):
                assert op.path not in state and parent in state and parent not in created
                state[op.path] = decode_properties(op.data)
            elif isinstance(op, SetData):
                state[op.path] = decode_properties(op.data)
            elif isinstance(op, DeleteNode):
                kids = [p for p in state if p.startswith(op.path + "/")]
                assert all(p in deleted for p in kids), "a child outlives its parent"
        for path in deleted:
            del state[path]


def _unflatten(state: dict[str, dict[str, Any]]) -> ExistingNode:
    nodes = {path: ExistingNode(dict(props)) for path, props in state.items()}
    for path in sorted(state, key=len):
        if path != "/":
            parent, name = path.rsplit("/", 1)
            nodes[parent or "/"].children[name] = nodes[path]
    return nodes["/"]


@settings(max_examples=200, deadline=None)
@given(shapes, shapes, st.sampled_from([None, False, True]))
def test_executing_a_plan_yields_the_text_tree(
    have: TextNode, want: TextNode, trim: bool | None
) -> None:
    """Running the steps in order (each step's ops concurrently) makes ZooKeeper match the text."""
    want.properties.clear()
    state = _flatten(have)
    _run(plan_import(want, "/", existing(have), trim=trim), state)
    expected = _flatten(want)
    for path, props in expected.items():
        if path != "/":
            assert state[path] == props
    for path in state.keys() - expected.keys():
        if trim and path != "/":
            assert path.split("/")[1] not in want.children, f"{path} should have been trimmed"
    if not trim:
        assert _flatten(have).keys() <= state.keys()
    again = plan_import(want, "/", _unflatten(state), trim=trim)
    assert again.steps == (), "a second import has nothing left to do"
