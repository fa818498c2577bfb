"""The GraphiQL page, served with vendored assets so it works offline.

The assets in ``static/graphiql/`` come from npm through
``scripts/vendor_graphiql.sh``; their README names the versions.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

ASSET_DIR: Path = Path(__file__).resolve().parent / "static" / "graphiql"

ASSET_FILES: dict[str, str] = {
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "graphiql.min.js": "text/javascript",
}

_SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")

_DEFAULT_QUERY = """\
# Welcome to SpecQL GraphiQL.
#
# Write a query on this side, then press the play button (or Ctrl-Enter,
# Cmd-Enter on a Mac) to run it against this server; the result appears on
# the right. Ctrl-Space suggests fields as you type. The first button of the
# left sidebar opens the Documentation Explorer: every type, field and
# argument of this API.
# Send headers (e.g. Authorization) from the Headers tab below; they are not
# saved in the browser.
#
# This query works on any schema; replace it with your own:

{
  __typename
}
"""

_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SpecQL GraphiQL</title>
<link rel="stylesheet" href="{stylesheet}">
<style>
html, body {{ height: 100%; margin: 0; }}
#graphiql {{ height: 100vh; }}
</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL...</div>
{scripts}
<script>
const fetcher = GraphiQL.createFetcher({{ url: {endpoint} }});
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {{
    fetcher: fetcher,
    defaultQuery: {default_query},
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }}),
);
</script>
</body>
</html>
"""


def graphiql_page(endpoint: str, assets: str) -> str:
    """Return the GraphiQL HTML page.

    Args:
        endpoint: URL of the GraphQL endpoint the page sends queries to.
        assets: URL path under which this server serves ``ASSET_FILES``
            (e.g. ``/graphiql/static``); a trailing slash is ignored.
    """
    prefix = assets.rstrip("/")

    def url(name: str) -> str:
        return html.escape(f"{prefix}/{name}", quote=True)

    scripts = "\n".join(f'<script src="{url(name)}"></script>' for name in _SCRIPTS)
    return _PAGE.format(
        stylesheet=url("graphiql.min.css"),
        scripts=scripts,
        endpoint=_js_string(endpoint),
        default_query=_js_string(_DEFAULT_QUERY),
    )


def _js_string(value: str) -> str:
    # A JS string literal that is also inert inside an HTML <script> element:
    # json.dumps escapes quotes, backslashes and U+2028/U+2029 (ensure_ascii),
    # and no "<", ">" or "&" survives to close the element or open a comment.
    literal = json.dumps(value)
    return literal.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
