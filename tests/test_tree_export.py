"""format_tree: the reference's export layout, and parse/format round trips."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readme_trees import PROPERTY_LINK_TEXT, README_EXPORT, RELATIVE_LINK_TEXT, TREE_TEXT

from aiozkreg._links import KeyKind, split_key
from aiozkreg._tree import TextNode, format_tree, parse_tree
from aiozkreg._tree_format import literal_repr


def test_readme_export_of_root() -> None:
    """Exporting the root without a name writes its children with the README's layout."""
    tree = parse_tree(TREE_TEXT)
    tree.children["fooservice"] = TextNode(
        {"threads": 3, "secret": "1234"}, {"providers": TextNode()}
    )
    assert format_tree(tree) == README_EXPORT


def test_readme_export_of_one_node() -> None:
    """Exporting a node with its name writes the node line first."""
    fooservice = TextNode({"threads": 3, "secret": "1234"}, {"providers": TextNode()})
    assert format_tree(fooservice, "fooservice") == (
        "/fooservice\n  secret = '1234'\n  threads = 3\n  /providers\n"
    )


def test_readme_export_with_new_name() -> None:
    """The name given replaces the node's own (export /cms/databases/main as cms)."""
    main = TextNode(children={"providers": TextNode()})
    assert format_tree(main, "cms") == "/cms\n  /providers\n"


def test_root_export_with_name() -> None:
    """Exporting the root with a name nests everything under that name."""
    root = TextNode(children={"fooservice": TextNode({"threads": 1}, {"providers": TextNode()})})
    assert format_tree(root, "top") == "/top\n  /fooservice\n    threads = 1\n    /providers\n"


def test_resilient_import_export() -> None:
    """The reference's spacing-variants tree exports in canonical form."""
    tree = parse_tree("/test\n  a=1\n  b      =1\n  c=      1\n  ad->/x\n  af  ->/x\n  ae->  /x\n")
    assert format_tree(tree) == (
        "/test\n  a = 1\n  b = 1\n  c = 1\n  ad -> /x\n  ae -> /x\n  af -> /x\n"
    )


def test_property_links_round_trip() -> None:
    """Property links export as 'name => value', among the properties, and import back."""
    tree = parse_tree(PROPERTY_LINK_TEXT)
    text = format_tree(tree)
    assert "  threads => /fooservice threads\n" in text
    assert parse_tree(text) == tree
    app = parse_tree("/app\n  threads => ..\n  color = 'red'\n  database -> /databases/foo\n")
    assert format_tree(app) == (
        "/app\n  color = 'red'\n  threads => ..\n  database -> /databases/foo\n"
    )


def test_empty_tree_is_empty_text() -> None:
    """An empty root exports as empty text, which parses back to an empty tree."""
    assert format_tree(TextNode()) == ""
    assert format_tree(TextNode(), "x") == "/x\n"


def test_root_properties_without_name_are_not_written() -> None:
    """Without a name the root's own data is left out, as the reference left out /'s data."""
    assert format_tree(TextNode({"x": 1}, {"a": TextNode()})) == "/a\n"


@pytest.mark.parametrize(
    ("properties", "lines"),
    [
        ({"type": "z4m cms"}, ["/n : z4m cms"]),
        ({"type": ""}, ["/n", "  type = ''"]),
        ({"type": " padded"}, ["/n", "  type = ' padded'"]),
        ({"type": "two\nlines"}, ["/n", "  type = 'two\\nlines'"]),
        ({"type": "tab\there"}, ["/n", "  type = 'tab\\there'"]),
        ({"type": 7}, ["/n", "  type = 7"]),
        ({"type": "a # b"}, ["/n : a # b"]),
    ],
)
def test_node_type(properties: dict[str, Any], lines: list[str]) -> None:
    """A one-line type goes in the node line; any other type is written as a property."""
    text = format_tree(TextNode(properties), "n")
    assert text == "\n".join(lines) + "\n"
    assert parse_tree(text).children["n"].properties == properties


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("it's", '"it\'s"'),
        ("é☃", "'é☃'"),
        ("\u2028", "'\\u2028'"),
        (1.5, "1.5"),
        (-0.0, "-0.0"),
        (1e308, "1e+308"),
        ("\ud800", "'\\ud800'"),
        (True, "True"),
        (None, "None"),
        ({"k": [1, "2"]}, "{'k': [1, '2']}"),
    ],
)
def test_values_are_python_3_literals(value: Any, text: str) -> None:
    """Values are written as Python 3 reprs that read back as the same value."""
    assert literal_repr(value) == text
    assert parse_tree(f"/n\n  v = {text}\n").children["n"].properties["v"] == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (math.inf, "inf is not a finite number"),
        (-math.inf, "-inf is not a finite number"),
        (math.nan, "nan is not a finite number"),
        ([1, {"deep": [math.inf]}], "inf is not a finite number"),
        ((1, 2), "tuple values are not allowed"),
        ({1: "a"}, "dict key 1 is not a string"),
    ],
)
def test_values_that_would_not_read_back_refuse_export(value: Any, problem: str) -> None:
    """A non-finite number or non-JSON value makes export fail, naming the node and the key."""
    tree = TextNode(children={"a": TextNode(children={"b": TextNode({"ok": 1, "bad": value})})})
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        format_tree(tree)
    assert "'bad' of /a/b" in str(info.value)
    with pytest.raises(ValueError, match="'bad' of /top/a/b"):
        format_tree(tree, "top")


def test_links_with_non_finite_values_refuse_export() -> None:
    """A link key holding a non-finite number fails like any other property."""
    with pytest.raises(ValueError, match="'x ->' of /n"):
        format_tree(TextNode({"x ->": math.nan}), "n")


def test_too_deeply_nested_values_refuse_export() -> None:
    """A value nested beyond what Python's parser reads back makes export fail, naming it."""
    deep: Any = 1
    for _ in range(500):
        deep = [deep]
    with pytest.raises(ValueError, match="'v' of /n: its value is nested too deeply"):
        format_tree(TextNode({"v": deep}), "n")
    fine: Any = 1
    for _ in range(100):
        fine = {"k": fine}
    text = format_tree(TextNode({"v": fine}), "n")
    assert parse_tree(text).children["n"].properties == {"v": fine}


@pytest.mark.parametrize("name", ["", "a/b", ".", ".."])
def test_node_names_zookeeper_cannot_hold_refuse_export(name: str) -> None:
    """A node name that is empty, holds '/', or is '.'/'..' makes export fail, naming it."""
    with pytest.raises(ValueError, match="is not a node name"):
        format_tree(TextNode(children={"top": TextNode(children={name: TextNode()})}))


def test_relative_links_round_trip() -> None:
    """Relative link targets export unchanged."""
    assert format_tree(parse_tree(RELATIVE_LINK_TEXT)) == RELATIVE_LINK_TEXT


@pytest.mark.parametrize(
    ("properties", "lines"),
    [
        ({"key with spaces": 1}, ["'key with spaces' = 1"]),
        ({"#hash": 2}, ["'#hash' = 2"]),
        ({"/slash": 3}, ["'/slash' = 3"]),
        ({"a -> b": 4}, ["'a -> b' = 4"]),
        ({"a=b": 5}, ["'a=b' = 5"]),
        ({" lead": 6, "trail ": 7}, ["' lead' = 6", "'trail ' = 7"]),
        ({"": 8}, ["'' = 8"]),
        ({"'q'": 9, '"dq': 10}, ["'\"dq' = 10", "\"'q'\" = 9"]),
        ({"tab\tkey": 1}, ["'tab\\tkey' = 1"]),
        ({"it's": 1, "a->b": 2, "x:y": 3}, ["a->b = 2", "it's = 1", "x:y = 3"]),
        ({"my link ->": "/x"}, ["'my link' -> /x"]),
        ({" ->": "/databases/main"}, ["'' -> /databases/main"]),
        ({"x ->": 5}, ["'x ->' = 5"]),
        ({"x ->": "two words"}, ["'x ->' = 'two words'"]),
        ({"x ->": ""}, ["'x ->' = ''"]),
        ({"x ->": "tab\there"}, ["'x ->' = 'tab\\there'"]),
        ({"my plink =>": "/a b"}, ["'my plink' => /a b"]),
        ({"p =>": "/a b c"}, ["'p =>' = '/a b c'"]),
        ({"p =>": " /a"}, ["'p =>' = ' /a'"]),
        ({"p =>": None}, ["'p =>' = None"]),
        ({"type": "a\x00b"}, ["type = 'a\\x00b'"]),
    ],
)
def test_names_that_bare_text_cannot_carry_are_quoted(
    properties: dict[str, Any], lines: list[str]
) -> None:
    """Names and link values bare text cannot carry are written quoted, and read back."""
    text = format_tree(TextNode(properties), "n")
    assert text == "/n\n" + "".join(f"  {line}\n" for line in lines)
    assert parse_tree(text) == TextNode(children={"n": TextNode(properties)})


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("node name", "/'node name'"),
        (" lead", "/' lead'"),
        ("'quoted'", "/\"'quoted'\""),
        ("new\nline", "/'new\\nline'"),
        ("#x", "/#x"),
        ("a:b", "/a:b"),
        ("a=1", "/a=1"),
        ("it's", "/it's"),
    ],
)
def test_node_names_that_bare_text_cannot_carry_are_quoted(name: str, line: str) -> None:
    """A node name with a blank, an unprintable character or a leading quote is quoted."""
    tree = TextNode(children={name: TextNode({"type": "t"})})
    assert format_tree(tree) == f"{line} : t\n"
    assert parse_tree(format_tree(tree)) == tree


# --- property-based round trips -------------------------------------------------


# ZooKeeper node names: any non-empty string without '/' or NUL, not '.' or '..'.
node_names = st.text(
    st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=6
).filter(lambda n: n not in (".", ".."))
# Property names: any string at all (lone surrogates included: JSON can carry them).
key_names = st.text(st.characters(exclude_categories=()), max_size=6)
# Names and values that bare text can carry, so the bare forms are exercised too.
_NON_BLANK = st.characters(codec="utf-8", exclude_categories=("Z", "Cc"))
bare_names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Z", "Cc"), exclude_characters="="),
    min_size=1,
    max_size=6,
).filter(lambda n: n[0] not in "#/'\"")
tokens = st.text(_NON_BLANK, min_size=1, max_size=6)
types = st.text(_NON_BLANK | st.just(" "), min_size=1, max_size=8).filter(lambda t: t == t.strip())
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
link_values = tokens | st.builds(" ".join, st.lists(tokens, min_size=1, max_size=3)) | json_values


@st.composite
def node_properties(draw: st.DrawFn) -> dict[str, Any]:
    props: dict[str, Any] = draw(st.dictionaries(key_names | bare_names, json_values, max_size=4))
    for name, target in draw(
        st.dictionaries(key_names | bare_names, link_values, max_size=2)
    ).items():
        props[f"{name} ->"] = target
    for name, value in draw(
        st.dictionaries(key_names | bare_names, link_values, max_size=2)
    ).items():
        props[f"{name} =>"] = value
    node_type = draw(st.none() | types | json_values)
    if node_type is not None:
        props["type"] = node_type
    # A property and a property link of the same name cannot both be set: keep the property.
    for key in list(props):
        kind, name = split_key(key)
        if kind is KeyKind.PROPERTY_LINK and name in props:
            del props[key]
    return props


trees = st.recursive(
    st.builds(TextNode, node_properties()),
    lambda inner: st.builds(
        TextNode, node_properties(), st.dictionaries(node_names, inner, max_size=3)
    ),
    max_leaves=6,
)


def _exactly(value: Any) -> Any:
    """``value`` with types made visible, so 1, 1.0 and True compare different."""
    if isinstance(value, dict):
        return {k: _exactly(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exactly(v) for v in value]
    return (type(value).__name__, repr(value))


def _exact_tree(node: TextNode) -> Any:
    return (_exactly(node.properties), {k: _exact_tree(v) for k, v in node.children.items()})


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(node_names, trees, max_size=3))
def test_parse_format_round_trip(children: dict[str, TextNode]) -> None:
    """parse_tree(format_tree(tree)) == tree, types included, for every tree ZooKeeper holds."""
    tree = TextNode(children=children)
    text = format_tree(tree)
    text.encode("utf-8")  # a file can hold it: no lone surrogates
    assert text.splitlines() == text.split("\n")[:-1]  # no line breaks but "\n"
    parsed = parse_tree(text)
    assert parsed == tree
    assert _exact_tree(parsed) == _exact_tree(tree)
    assert format_tree(parsed) == text


@settings(max_examples=50, deadline=None)
@given(node_names, trees)
def test_named_export_round_trip(name: str, node: TextNode) -> None:
    """A node exported under a name parses back as that one child."""
    assert parse_tree(format_tree(node, name)) == TextNode(children={name: node})


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(node_names, trees, max_size=3), st.sampled_from(["\t", " ", "    "]))
def test_one_kind_of_indentation_reads_the_same(children: dict[str, TextNode], unit: str) -> None:
    """Exported text re-indented with tabs only, or other spaces only, parses to the same tree."""
    text = format_tree(TextNode(children=children))
    lines = [
        unit * ((len(line) - len(line.lstrip(" "))) // 2) + line.lstrip(" ")
        for line in text.splitlines()
    ]
    assert parse_tree("\n".join(lines)) == TextNode(children=children)
