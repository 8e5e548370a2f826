"""The architecture graph (aiozkreg._graph): pure, no server."""

from __future__ import annotations

import pytest
from readme_trees import TREE_TEXT

from aiozkreg import parse_tree
from aiozkreg._graph import (
    Edge,
    EdgeKind,
    Graph,
    Vertex,
    VertexKind,
    build_graph,
    reference_edges,
    to_dot,
    to_mermaid,
)

C, L, P, D = EdgeKind.CONTAINS, EdgeKind.LINK, EdgeKind.PROPERTY_LINK, EdgeKind.DEPENDS

# Services that use each other through links to providers nodes, held by the
# service itself, by a node inside it, relatively, through another link, and
# to a service that is not in the tree.
SERVICES = """\
/app : web
  db -> /db/providers
  /providers
    /1.2.3.4:80
      pid = 1
    /1.2.3.4:81
  /backends
    cache -> ../../cache/providers
    search -> /search/providers
  /pool
    /providers
/cache : memcached
  /providers
/db : postgres
  /providers
  /replica
    primary -> ..
    threads => /app/pool size
/lb
  app -> /app/providers
  mirror -> /lb/app
"""


def edges(graph: Graph) -> list[tuple[str, str, EdgeKind, str]]:
    return [(e.source, e.target, e.kind, e.label) for e in graph.edges]


def test_readme_tree_vertices_and_edges() -> None:
    """The README's /lb /cms /retail tree: services fold their providers, links point at them."""
    graph = build_graph(parse_tree(TREE_TEXT))
    S, N = VertexKind.SERVICE, VertexKind.NODE
    assert graph.vertices == (
        Vertex("/cms", S, "z4m cms"),
        Vertex("/cms/databases", N),
        Vertex("/cms/databases/main", S),
        Vertex("/lb", N, "ipvs"),
        Vertex("/lb/pools", N),
        Vertex("/lb/pools/cms", N),
        Vertex("/lb/pools/retail", N),
        Vertex("/retail", S, "z4m retail"),
        Vertex("/retail/databases", N),
        Vertex("/retail/databases/ugc", S),
    )
    assert edges(graph) == [
        ("/cms", "/cms/databases", C, ""),
        ("/cms/databases", "/cms/databases/main", C, ""),
        ("/lb", "/lb/pools", C, ""),
        ("/lb/pools", "/lb/pools/cms", C, ""),
        ("/lb/pools/cms", "/cms", L, "providers"),
        ("/lb/pools", "/lb/pools/retail", C, ""),
        ("/lb/pools/retail", "/cms", L, "providers"),
        ("/retail", "/retail/databases", C, ""),
        ("/retail/databases", "/cms/databases/main", L, "main"),
        ("/retail/databases", "/retail/databases/ugc", C, ""),
    ]
    # The reference's graphvis finds no service-to-service edge in this tree.
    assert reference_edges(parse_tree(TREE_TEXT)) == []


def test_services_links_and_property_links() -> None:
    """Links to providers become service dependencies; relative and chained links are followed."""
    graph = build_graph(parse_tree(SERVICES))
    assert edges(graph) == [
        ("/app", "/db", D, "db"),
        ("/app", "/app/backends", C, ""),
        ("/app", "/cache", D, ""),
        ("/app/backends", "/cache", L, "cache"),
        ("/app", "/search", D, ""),
        ("/app/backends", "/search", L, "search"),
        ("/app", "/app/pool", C, ""),
        ("/db", "/db/replica", C, ""),
        ("/db/replica", "/db", L, "primary"),
        ("/db/replica", "/app/pool", P, "threads => size"),
        ("/lb", "/app", L, "app"),
        ("/lb", "/app", L, "mirror"),
    ]
    assert graph.vertex("/app") == Vertex("/app", VertexKind.SERVICE, "web", 2)
    assert graph.vertex("/app/pool").kind is VertexKind.SERVICE
    assert graph.vertex("/search") == Vertex("/search", VertexKind.EXTERNAL)
    with pytest.raises(KeyError):
        graph.vertex("/app/providers")  # folded into /app


def test_every_reference_edge_is_a_dependency() -> None:
    """Each edge zc.zk's graphvis drew, (service, link[:-10]), is a DEPENDS edge here."""
    tree = parse_tree(SERVICES)
    reference = reference_edges(tree)
    assert reference == [
        ("/app", "/db"),
        ("/app", "../../cache"),  # the reference did not resolve relative links
        ("/app", "/search"),
    ]
    dependencies = {(e.source, e.target) for e in build_graph(tree).edges if e.kind is D}
    assert dependencies == {("/app", "/db"), ("/app", "/cache"), ("/app", "/search")}
    assert {edge for edge in reference if edge[1].startswith("/")} <= dependencies


def test_subtree_at_a_base_path() -> None:
    """A subtree read from a live path keeps absolute paths; targets outside it are external."""
    tree = parse_tree("/pools\n  /cms\n    providers -> /cms/providers\n")
    graph = build_graph(tree, "/lb")
    assert [v.path for v in graph.vertices] == ["/cms", "/lb/pools", "/lb/pools/cms"]
    assert graph.vertex("/cms").kind is VertexKind.EXTERNAL
    assert edges(graph) == [
        ("/lb/pools", "/lb/pools/cms", C, ""),
        ("/lb/pools/cms", "/cms", L, "providers"),
    ]


def test_dot_output() -> None:
    """DOT: one statement per vertex and edge, styled by kind, strings escaped."""
    graph = Graph(
        (
            Vertex("/a", VertexKind.SERVICE, 'say "hi"', 1),
            Vertex("/b", VertexKind.NODE),
            Vertex("/c\\d", VertexKind.EXTERNAL),
        ),
        (
            Edge("/a", "/b", C),
            Edge("/b", "/a", L, "x"),
            Edge("/b", "/c\\d", P, "t => u"),
            Edge("/b", "/a", D),
        ),
    )
    assert to_dot(graph) == (
        "digraph g {\n"
        "  rankdir=LR;\n"
        "  node [shape=box];\n"
        '  "/a" [label="/a\\nsay \\"hi\\"\\n1 provider", peripheries=2];\n'
        '  "/b" [label="/b", style=rounded];\n'
        '  "/c\\\\d" [label="/c\\\\d", style=dashed];\n'
        '  "/a" -> "/b" [arrowhead=none, color=gray];\n'
        '  "/b" -> "/a" [label="x"];\n'
        '  "/b" -> "/c\\\\d" [label="t => u", style=dashed];\n'
        '  "/b" -> "/a" [style=bold];\n'
        "}\n"
    )


def test_mermaid_output() -> None:
    """Mermaid: generated ids, shapes and arrows by kind, labels entity-escaped."""
    graph = Graph(
        (
            Vertex("/a", VertexKind.SERVICE, "x|y", 2),
            Vertex("/b", VertexKind.NODE, "<#>"),
            Vertex("/c", VertexKind.EXTERNAL),
        ),
        (
            Edge("/a", "/b", C),
            Edge("/b", "/a", L, "x"),
            Edge("/b", "/c", P, 't => "u"'),
            Edge("/b", "/a", D),
        ),
    )
    assert to_mermaid(graph) == (
        "flowchart LR\n"
        '  n0[["/a<br/>x#124;y<br/>2 providers"]]\n'
        '  n1("/b<br/>#lt;#35;#gt;")\n'
        '  n2["/c"]:::external\n'
        "  n0 --- n1\n"
        '  n1 -->|"x"| n0\n'
        '  n1 -.->|"t =#gt; #quot;u#quot;"| n2\n'
        "  n1 ==> n0\n"
        "  classDef external stroke-dasharray: 5 5\n"
    )


def test_empty_tree() -> None:
    """An empty tree gives an empty but valid diagram in both formats."""
    graph = build_graph(parse_tree(""))
    assert graph == Graph((), ())
    assert to_dot(graph) == "digraph g {\n  rankdir=LR;\n  node [shape=box];\n}\n"
    assert to_mermaid(graph) == "flowchart LR\n"
