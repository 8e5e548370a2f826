"""parse_tree: the tree grammar, its error messages, and safety of values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from readme_trees import PROPERTY_LINK_TEXT, RELATIVE_LINK_TEXT, TREE_TEXT, TREE_TEXT_2

from aiozkreg._errors import TreeSyntaxError
from aiozkreg._tree import TextNode, parse_tree


def node(properties: dict[str, Any] | None = None, **children: TextNode) -> TextNode:
    return TextNode(properties or {}, dict(children))


def test_readme_tree() -> None:
    """The README's first tree parses to the expected model."""
    expected = node(
        lb=node(
            {"type": "ipvs"},
            pools=node(
                cms=node({"address": "1.2.3.4:80", "providers ->": "/cms/providers"}),
                retail=node({"address": "1.2.3.5:80", "providers ->": "/cms/providers"}),
            ),
        ),
        cms=node(
            {"type": "z4m cms", "threads": 3},
            providers=node(),
            databases=node(main=node(providers=node())),
        ),
        retail=node(
            {"type": "z4m retail", "threads": 1},
            providers=node(),
            databases=node({"main ->": "/cms/databases/main"}, ugc=node(providers=node())),
        ),
    )
    assert parse_tree(TREE_TEXT) == expected


def test_readme_graph_analysis() -> None:
    """As in the README: the edited tree has top nodes cms and lb, and lb's type is a property."""
    tree = parse_tree(TREE_TEXT_2)
    assert sorted(tree.children) == ["cms", "lb"]
    assert tree.children["lb"].properties == {"type": "ipvs"}
    assert tree.properties == {}


def test_readme_property_link_tree() -> None:
    """A property link is stored as 'name =>' with the path and property name as written."""
    tree = parse_tree(PROPERTY_LINK_TEXT)
    assert tree.children["cms"].properties == {
        "type": "z4m cms",
        "threads =>": "/fooservice threads",
    }
    assert tree.children["fooservice"].properties == {"secret": "1234", "threads": 3}


def test_relative_links() -> None:
    """Link targets are kept as written, relative ones included."""
    tree = parse_tree(RELATIVE_LINK_TEXT)
    assert tree.children["a"].children["b"].properties == {"l ->": "c", "l2 ->": "../c"}
    assert tree.children["a"].children["b"].links == {"l": "c", "l2": "../c"}


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("a=1", "a", 1),
        ("b      =1", "b", 1),
        ("c=      1", "c", 1),
        ("d = 'x y'", "d", "x y"),
        ("ad->/x", "ad ->", "/x"),
        ("af          ->/x", "af ->", "/x"),
        ("ae->         /x", "ae ->", "/x"),
        ("a->b -> /x", "a->b ->", "/x"),
        ("a->/x=y", "a ->", "/x=y"),
        ("x='a=b'", "x", "a=b"),
        ("t=>/x", "t =>", "/x"),
        ("t =>  /x   y", "t =>", "/x   y"),
        ("u => ..", "u =>", ".."),
        ("n = None", "n", None),
        ("f = -1.5e3", "f", -1500.0),
        ("big = 1e308", "big", 1e308),
        ("l = [1, 'a', {'k': [True, False]}]", "l", [1, "a", {"k": [True, False]}]),
        ("s = 'caf\\xe9 \\u2603'", "s", "café ☃"),
        ("s = '''tri'''", "s", "tri"),
        ("address = '1.2.3.4:80'  # fixed, it's exposed", "address", "1.2.3.4:80"),
        ("hash = '#not a comment'", "hash", "#not a comment"),
        ("x = 1 # '", "x", 1),
    ],
)
def test_line_variants(line: str, key: str, value: Any) -> None:
    """Spacing variants, value types and trailing comments all parse."""
    tree = parse_tree(f"/n\n  {line}\n")
    assert tree.children["n"].properties == {key: value}
    assert type(tree.children["n"].properties[key]) is type(value)


@pytest.mark.parametrize(
    ("line", "name", "properties"),
    [
        ("/a:b", "a:b", {}),
        ("/a: b", "a", {"type": "b"}),
        ("/a : b", "a", {"type": "b"}),
        ("/a\t:\tb", "a", {"type": "b"}),
        ("/1.2.3.4:5", "1.2.3.4:5", {}),
        ("/1.2.3.4:5 : server", "1.2.3.4:5", {"type": "server"}),
        ("/cms : z4m cms", "cms", {"type": "z4m cms"}),
        ("/a:b c", "a", {"type": "b c"}),
        ("/a: : t", "a:", {"type": "t"}),
        ("/a : b # c", "a", {"type": "b # c"}),
        ("/a=1", "a=1", {}),
        ("/a->b", "a->b", {}),
        ("/#x", "#x", {}),
    ],
)
def test_node_lines(line: str, name: str, properties: dict[str, Any]) -> None:
    """'/a:b' is node a:b; a colon after blanks or followed by blanks starts the type."""
    tree = parse_tree(line)
    assert tree == TextNode(children={name: TextNode(properties)})


def test_comments_and_blank_lines() -> None:
    """Comment lines (at any indentation) and blank lines are skipped."""
    text = "# top\n\n/a\n    # deep comment\n  x = 1\n\n   \n  # another\n  /b\n"
    assert parse_tree(text) == node(a=node({"x": 1}, b=node()))


def test_tabs_count_as_one() -> None:
    """Indentation is a character count: a tab is one character, in a text indented with tabs."""
    assert parse_tree("/a\n\t/b\n\t\t/c\n\tx = 1\n") == node(a=node({"x": 1}, b=node(c=node())))
    with pytest.raises(TreeSyntaxError, match="Invalid indentation") as info:
        parse_tree("/a\n\t\t/b\n\t/c\n")
    assert info.value.lineno == 3


@pytest.mark.parametrize(
    ("text", "lineno"),
    [
        ("/a\n\t/b\n  /c\n", 3),  # tab = 1: c under b; tab = 8: c dedents below b
        ("/a\n\t/b\n /c\n", 3),  # tab = 1: c beside b; tab = 8: c dedents below b
        ("/a\n  /b\n\t/c\n", 3),  # tab = 1: no such depth; tab = 8: c under b
        ("/a\n\t/b\n\t  /c\n    /d\n", 4),  # a tab then two spaces, then four spaces
        ("/a\n        /b\n\t/c\n", 3),  # eight spaces, then a tab: the same only at 8
    ],
)
def test_tabs_and_spaces_mixed_so_nesting_depends_on_tab_width(text: str, lineno: int) -> None:
    """Indentation whose nesting changes with the tab width is an error naming the line."""
    with pytest.raises(TreeSyntaxError, match="mixes tabs and spaces") as info:
        parse_tree(text)
    assert info.value.lineno == lineno
    assert info.value.line == text.split("\n")[lineno - 1]


@pytest.mark.parametrize(
    "text",
    [
        "/a\n\t/b\n\t\t/c\n\t/d\n/e\n",  # tabs only
        "/a\n  /b\n    /c\n  /d\n/e\n",  # spaces only
        "/a\n   /b\n      /c\n   /d\n/e\n",  # spaces only, three a level
        "/a\n\t/b\n\t  /c\n\t/d\n/e\n",  # a tab then spaces, the same way on every line
        "/a\n\t/b\n\t\t/c\n\t/d\n/e\n  /f\n",  # one subtree in tabs, another in spaces
    ],
)
def test_one_kind_of_indentation_reads_as_the_reference_reads_it(text: str) -> None:
    """Tabs only, spaces only, or the same mix on every line: a tab counts as one, as in zc.zk."""
    expected = node(
        a=node(b=node(c=node()), d=node()), e=node(**({"f": node()} if "/f" in text else {}))
    )
    assert parse_tree(text) == expected


def test_any_consistent_indentation_works() -> None:
    """Levels need not be two spaces; siblings just line up."""
    assert parse_tree("  /a\n     /b\n       /c\n     /d\n  /e") == node(
        a=node(b=node(c=node()), d=node()), e=node()
    )


def test_crlf_lines() -> None:
    """Windows line endings are stripped with the trailing whitespace."""
    assert parse_tree("/a\r\n  x = 1\r\n") == node(a=node({"x": 1}))


def test_empty_text() -> None:
    """Empty or comment-only text is an empty tree."""
    assert parse_tree("") == TextNode()
    assert parse_tree("\n# nothing\n  \n") == TextNode()


ERRORS = [
    ("/test\n  a= 1+\n", 2, "not a Python literal"),
    ("/test\n  a ->\n", 2, "Bad link format"),
    ("/test\n  a -> /x /y\n", 2, "Bad link format"),
    ("/test\n  a => \n", 2, "Bad property link format"),
    ("/test\n  a => /x y /z\n", 2, "Bad property link format"),
    ("/test\n  hello world\n", 2, "Unrecognized line"),
    ("/test\n  = 1\n", 2, "Unrecognized line"),
    ("/test\n  x =\n", 2, "Unrecognized line"),
    ("/a/b\n", 1, "Bad node line"),
    ("/a b\n", 1, "Bad node line"),
    ("/\n", 1, "Bad node line"),
    ("/..\n", 1, "'..' is not a valid node name"),
    ("/a\n  /.\n", 2, "'.' is not a valid node name"),
    ("/a\n  x = 1\n    y = 2\n", 3, "Can't indent under properties"),
    ("/a\n  x -> /y\n    /b\n", 3, "Can't indent under properties"),
    ("/a\n  /b\n    /c\n  x = 1\n    /d\n", 5, "Can't indent under properties"),
    ("/a\n    /b\n  /c\n", 3, "Invalid indentation"),
    ("  /a\n/b\n", 2, "Invalid indentation"),
    ("/a\n  /b\n  /b\n", 3, "Duplicate node 'b'"),
    ("/a\n/a\n", 2, "Duplicate node 'a'"),
    ("/a\n  x = 1\n  x = 2\n", 3, "Duplicate property 'x'"),
    ("/a : t\n  type = 'u'\n", 2, "Duplicate property 'type'"),
    ("/a\n  l -> /x\n  l -> /y\n", 3, "Duplicate property 'l ->'"),
    ("x = 1", 1, "Can't import properties above imported nodes"),
    ("/y\nx = 1", 2, "Can't import properties above imported nodes"),
    ("\n\nl -> /x", 3, "Can't import properties above imported nodes"),
    ("/a\n  s = {1, 2}\n", 2, "cannot be stored as JSON (set values are not allowed"),
    ("/a\n  t = (1, 2)\n", 2, "cannot be stored as JSON (tuple values are not allowed"),
    ("/a\n  t = 1, 2\n", 2, "cannot be stored as JSON"),
    ("/a\n  b = b'x'\n", 2, "cannot be stored as JSON (bytes values are not allowed"),
    ("/a\n  c = 1j\n", 2, "cannot be stored as JSON (complex values are not allowed"),
    ("/a\n  d = {1: 2}\n", 2, "dict key 1 is not a string"),
    ("/a\n  e = [[...]]\n", 2, "cannot be stored as JSON (ellipsis values are not allowed"),
    ("/a\n  x = nan\n", 2, "not a Python literal"),
    ("/a\n  x = 1e999\n", 2, "inf is not a finite number"),
    ("/a\n  x = -1e999\n", 2, "-inf is not a finite number"),
    ("/a\n  x = [1, {'k': 1e999}]\n", 2, "inf is not a finite number"),
    ("/a\n  x = float('inf')\n", 2, "not a Python literal"),
    ("/a\n  x = float('nan')\n", 2, "not a Python literal"),
    ("/a\n  'x = 1\n", 2, "Bad quoted name"),
    ("/a\n  'x' 1\n", 2, "Unrecognized line"),
    ("/a\n  'x' -> /a /b\n", 2, "Bad link format"),
    ("/a\n  'x' => /a b c\n", 2, "Bad property link format"),
    ("/a\n  'x' = 1e999\n", 2, "inf is not a finite number"),
    ("/a\n  '\\N{nope}' = 1\n", 2, "Bad quoted name"),
    ("/'a\n", 1, "Bad quoted name"),
    ("/'a' b\n", 1, "Bad node line"),
    ("/''\n", 1, "'' is not a valid node name (it is empty)"),
    ("/'a/b'\n", 1, "'a/b' is not a valid node name (it contains '/')"),
    ("/'..'\n", 1, "'..' is not a valid node name"),
    ("/a\n  '' = 1\n  \"\" = 2\n", 3, "Duplicate property ''"),
    ("/'a'\n/a\n", 2, "Duplicate node 'a'"),
    ("/a\n  x = [" + "[" * 300 + "\n", 2, "not a Python literal"),
    ("/a\n  x = '\0'\n", 2, "not a Python literal"),
]


@pytest.mark.parametrize(("text", "lineno", "message"), ERRORS)
def test_syntax_errors(text: str, lineno: int, message: str) -> None:
    """Every malformed line raises TreeSyntaxError naming its line and what is wrong."""
    with pytest.raises(TreeSyntaxError) as info:
        parse_tree(text)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.lineno == lineno
    assert error.line == text.split("\n")[lineno - 1].rstrip()
    assert message in str(error)
    assert f"in line {lineno}" in str(error)


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('touch {marker}')",
        "open('{marker}', 'w').write('x')",
        "[__import__('pathlib').Path('{marker}').touch()]",
        "(lambda: __import__('os').system('touch {marker}'))()",
        "{{'a': __import__('os').system('touch {marker}')}}",
    ],
)
def test_code_in_values_is_rejected_and_never_run(tmp_path: Path, expr: str) -> None:
    """A value that is code raises TreeSyntaxError and is never executed."""
    marker = tmp_path / "pwned"
    line = "x = " + expr.format(marker=marker)
    with pytest.raises(TreeSyntaxError, match="not a Python literal") as info:
        parse_tree(f"/a\n  {line}\n")
    assert info.value.lineno == 2
    assert not marker.exists()


def test_node_then_property_at_same_level_under_nested_node() -> None:
    """After a nested subtree, a dedented property belongs to the node above it."""
    text = "/a\n  /b\n    /c\n  x = 1\n  /d\n"
    assert parse_tree(text) == node(a=node({"x": 1}, b=node(c=node()), d=node()))


def test_link_and_property_of_same_name_coexist() -> None:
    """'x' and 'x ->' are different keys: a link names a child, not a property."""
    tree = parse_tree("/a\n  x = 1\n  x -> /y\n  /b\n    y -> /z\n    y => /z\n")
    assert tree.children["a"].properties == {"x": 1, "x ->": "/y"}
    assert tree.children["a"].children["b"].properties == {"y ->": "/z", "y =>": "/z"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("/a\n  x = 1\n  x => /y\n", "x"),
        ("/a\n  x => /y\n  x = 1\n", "x"),
        ("/a : web\n  type => /b\n", "type"),
        ("/a\n  'x y' => /b\n  'x y' = 1\n", "x y"),
        ("/a\n  'x =>' = 5\n  x = 1\n", "x"),
    ],
)
def test_property_and_property_link_of_same_name_is_an_error(text: str, name: str) -> None:
    """A property would hide the property link of the same name: an error naming the line."""
    with pytest.raises(TreeSyntaxError, match="cannot both be set") as info:
        parse_tree(text)
    assert info.value.lineno == text.count("\n")
    assert repr(name) in info.value.message


def test_walk() -> None:
    """TextNode.walk yields every path preorder and sorted."""
    tree = parse_tree(RELATIVE_LINK_TEXT)
    assert [path for path, _ in tree.walk()] == ["/", "/a", "/a/b", "/a/b/c", "/a/c"]


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("'key with spaces' = 1", "key with spaces", 1),
        ("'#hash' = 2", "#hash", 2),
        ("'/slash' = 3", "/slash", 3),
        ("'a -> b' = 4", "a -> b", 4),
        ("'a=b'='c'", "a=b", "c"),
        ("' padded ' = None", " padded ", None),
        ('"it\'s" = 1', "it's", 1),
        ("'' = 1", "", 1),
        ("'tab\\there\\n' = 1  # comment", "tab\there\n", 1),
        ("'caf\\xe9 \\u2603' = 1", "café ☃", 1),
        ("'x ->' = 5", "x ->", 5),
        ("'x =>' = '/a b c'", "x =>", "/a b c"),
        ("'my link' -> /x", "my link ->", "/x"),
        ("'my link'->/x", "my link ->", "/x"),
        ("'' -> /databases/main", " ->", "/databases/main"),
        ("'my plink' => /a b", "my plink =>", "/a b"),
        ("'my plink'=>/a", "my plink =>", "/a"),
        ("'a' = 1", "a", 1),
    ],
)
def test_quoted_names(line: str, key: str, value: Any) -> None:
    """A name written as a Python string literal is read with literal_eval: any key at all."""
    tree = parse_tree(f"/n\n  {line}\n")
    assert tree.children["n"].properties == {key: value}


@pytest.mark.parametrize(
    ("line", "name", "properties"),
    [
        ("/'node name'", "node name", {}),
        ("/'node name' : a type", "node name", {"type": "a type"}),
        ("/'a:b':t", "a:b", {"type": "t"}),
        ('/"it\'s"', "it's", {}),
        ("/' lead'", " lead", {}),
        ("/'#x'", "#x", {}),
        ("/'tab\\t'", "tab\t", {}),
    ],
)
def test_quoted_node_names(line: str, name: str, properties: dict[str, Any]) -> None:
    """/'NAME' is a node whose name is the string literal: blanks and quotes allowed."""
    assert parse_tree(line) == TextNode(children={name: TextNode(properties)})


def test_quoted_names_are_never_run_as_code(tmp_path: Path) -> None:
    """Only a plain string literal is a quoted name: an expression is an error, a prefix bare."""
    marker = tmp_path / "pwned"
    with pytest.raises(TreeSyntaxError, match="Unrecognized line"):
        parse_tree(f"/a\n  'x' + __import__('os').system('touch {marker}') = 1\n")
    name = f"f'{{open({str(marker)!r},'w')}}'"
    assert parse_tree(f"/a\n  {name} = 1\n").children["a"].properties == {name: 1}
    assert not marker.exists()
