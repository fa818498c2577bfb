"""The GraphiQL page loads only vendored files from our own server, and the
endpoint it is given cannot break out of its <script>."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from app.api.graphiql import ASSET_DIR, ASSET_FILES, graphiql_page

ASSETS = "/graphiql/static"
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.I)  # any scheme, or host-relative


class _Page(HTMLParser):
    """Every URL-bearing attribute, every tag, and the inline scripts' text."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self.styles: list[str] = []
        self._in: tuple[str, bool] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        for name in ("src", "href", "srcset", "action", "formaction", "poster", "data"):
            if attributes.get(name) is not None:
                self.urls.append(attributes[name])
        self._in = (tag, "src" not in attributes)

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == ("script", True):
            self.inline_scripts.append(data)
        elif self._in is not None and self._in[0] == "style":
            self.styles.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def endpoint_literal(page: str) -> str:
    (script,) = parse(page).inline_scripts
    match = re.search(r'createFetcher\(\{ url: ("(?:[^"\\]|\\.)*") \}\)', script)
    assert match, script
    return match.group(1)


@pytest.mark.parametrize("assets", [ASSETS, ASSETS + "/", "static", "/"])
def test_page_loads_nothing_from_another_host(assets):
    page = graphiql_page("/graphql", assets)
    parsed = parse(page)
    prefix = assets.rstrip("/") + "/"
    assert parsed.urls
    for url in parsed.urls:
        assert not EXTERNAL.match(url), url
        assert url.startswith(prefix), url
    for style in parsed.styles:
        assert "url(" not in style
        assert "@import" not in style
    assert not re.search(r"https?:|//[a-z0-9]", page, re.I)


def test_page_references_every_asset_and_each_one_exists():
    parsed = parse(graphiql_page("/graphql", ASSETS))
    names = [url.removeprefix(ASSETS + "/") for url in parsed.urls]
    assert sorted(names) == sorted(ASSET_FILES)
    for name in names:
        assert (ASSET_DIR / name).is_file(), name
        assert (ASSET_DIR / name).stat().st_size > 1000, name
    scripts = [attrs.get("src") or "" for tag, attrs in parsed.tags if tag == "script"]
    # GraphiQL's UMD build reads the React and ReactDOM globals when it loads.
    assert [src.rsplit("/", 1)[-1] for src in scripts if src] == [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
    ]
    stylesheets = [attrs["href"] for tag, attrs in parsed.tags if tag == "link"]
    assert stylesheets == [f"{ASSETS}/graphiql.min.css"]


def test_media_types_match_file_kinds():
    kinds = {".js": "text/javascript", ".css": "text/css"}
    for name, media_type in ASSET_FILES.items():
        assert media_type == kinds[name[name.rindex(".") :]], name


def test_page_is_utf8():
    # The vendored JS and CSS hold non-ASCII text; with no charset on their
    # Content-Type, the browser decodes them with the page's encoding.
    assert not (ASSET_DIR / "graphiql.min.js").read_bytes().isascii()
    page = graphiql_page("/graphql", ASSETS)
    assert ("meta", {"charset": "utf-8"}) in parse(page).tags
    assert page.isascii()


def test_page_configures_graphiql():
    page = graphiql_page("/graphql", ASSETS)
    (script,) = parse(page).inline_scripts
    assert "<title>SpecQL GraphiQL</title>" in page
    assert "isHeadersEditorEnabled: true" in script
    assert "shouldPersistHeaders: false" in script
    match = re.search(r'defaultQuery: ("(?:[^"\\]|\\.)*")', script)
    assert match, script
    query = json.loads(match.group(1))
    assert query.startswith("# Welcome to SpecQL")
    assert "play button" in query
    assert json.loads(endpoint_literal(page)) == "/graphql"


HOSTILE_ENDPOINTS = [
    "</script><script>alert(1)</script>",
    "</SCRIPT ><script>alert(1)</script>",
    '"});alert(1);//',
    '\\"});alert(1);//',
    "<!--<script>",
    "/graphql?a=1&b=<b>",
    "/graphql\u2028\u2029'`${alert(1)}`",
]


@pytest.mark.parametrize("endpoint", HOSTILE_ENDPOINTS)
def test_endpoint_cannot_escape_its_script(endpoint):
    page = graphiql_page(endpoint, ASSETS)
    parsed = parse(page)
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert len(scripts) == 4
    assert len(parsed.inline_scripts) == 1
    literal = endpoint_literal(page)
    assert not re.search(r"[<>&\u2028\u2029]", literal)
    assert json.loads(literal) == endpoint


@pytest.mark.parametrize("assets", ['/x"><script>alert(1)</script>', "/a&b<c>"])
def test_assets_prefix_is_escaped_in_attributes(assets):
    parsed = parse(graphiql_page("/graphql", assets))
    assert len([tag for tag, _ in parsed.tags if tag == "script"]) == 4
    assert all(url.startswith(assets + "/") for url in parsed.urls)


def test_vendored_css_loads_nothing_from_outside():
    css = (ASSET_DIR / "graphiql.min.css").read_text(encoding="utf-8")
    assert "@import" not in css
    urls = re.findall(r"url\(\s*[\"']?([^\"')]*)", css)
    assert urls  # the fonts are inlined, so there are data: URLs to check
    for url in urls:
        assert url.startswith("data:") or not EXTERNAL.match(url), url[:80]


@pytest.mark.parametrize("name", sorted(ASSET_FILES))
def test_vendored_files_name_no_source_map(name):
    # The maps are not vendored; a sourceMappingURL would 404 in devtools.
    assert b"sourceMappingURL" not in (ASSET_DIR / name).read_bytes()


@pytest.mark.parametrize("package", ["graphiql", "react", "react-dom"])
def test_each_vendored_package_keeps_its_license(package):
    assert "MIT License" in (ASSET_DIR / f"LICENSE.{package}").read_text(encoding="utf-8")
