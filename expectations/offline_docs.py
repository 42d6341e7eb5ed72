"""Great Expectations Data Docs that work offline: no CDN, and an index that is plain HTML.

GX's pages load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs, and its
index page is an empty <table> that bootstrap-table fills from a JavaScript array. Offline (a
laptop on a train, a locked-down network, the file attached to a ticket) that is an unstyled
page with an empty index. After every Data Docs update this rewrites each page in place:

- every <link>/<script>/<img> pointing outside the site is removed and a small inline stylesheet
  added (GX's own font and images under static/ stay);
- Font Awesome's status icons become words ("passed", "failed");
- each bootstrap-table is rendered into its <table> as rows (from the page's own column and data
  arrays), every row linking to its page, so the index lists every suite and result; then the
  inline scripts, which only drove the libraries that no longer load, are removed.

Rewriting is idempotent: a page already rewritten has nothing left to match.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

from lead_parity.files import write_text

OFFLINE_MARK = "<!-- lead-parity: offline -->"
STYLE = """<style>
body{font-family:'HKGrotesk',-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f;margin:0;
background:#f6f7f9}.container-fluid,.container{max-width:1200px;margin:0 auto;padding:16px 24px;
background:#fff}table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e6e6;vertical-align:top}
th{background:#fafafa}.card{border:1px solid #e3e3e3;border-radius:6px;margin:12px 0;
padding:8px 12px}
.ok{color:#1e7e34;font-weight:600}.bad{color:#c0392b;font-weight:600}.cooltip .top{display:none}
a{color:#0b5cad}nav,.ge-how-to,.sticky,.d-none,footer,button{display:none}
</style>"""

_EXTERNAL = re.compile(
    r"""<(?:link|script|img)\b[^>]*\b(?:href|src)=["']https?://[^"']*["'][^>]*>(?:\s*</script>)?""",
    re.I,
)
# Font Awesome's status icons -> words, keeping GX's classes (ge-success-icon, ge-failed-icon).
_ICONS = {
    re.compile(r'<i class="fas fa-check-circle([^"]*)"[^>]*></i>'):
        r'<span class="ok\1">passed</span>',
    re.compile(r'<i class="fas fa-times(?:-circle)?([^"]*)"[^>]*></i>'):
        r'<span class="bad\1">failed</span>',
}  # fmt: skip
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
_TABLE_CALL = re.compile(r"\$\('#([A-Za-z0-9_-]+)'\)\.bootstrapTable\(")


def _array_after(text: str, key: str, start: int) -> tuple[list, int] | None:
    """The Python-literal array following `key:` at or after `start`, and where it ends."""
    found = text.find(f"{key}: [", start)
    if found < 0:
        return None
    begin = text.index("[", found)
    depth, quote, i = 0, None, begin
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return ast.literal_eval(text[begin : i + 1]), i + 1
        i += 1
    return None


def _rows_html(columns: list[dict], rows: list[dict]) -> str:
    head = "".join(f"<th>{html.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    body = []
    for row in rows:
        link = row.get("_table_row_link_path")
        cells = []
        for n, column in enumerate(columns):
            # Cell values are GX's own rendered markup (icons, names of our suites and runs).
            value = str(row.get(column["field"], ""))
            if n == 0 and link:
                # The row's page, on its first cell (bootstrap-table made the whole row a link).
                value = f'<a class="row-link" href="{html.escape(link, quote=True)}">{value}</a>'
            cells.append(f"<td>{value}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"


def _render_tables(page: str) -> str:
    for match in list(_TABLE_CALL.finditer(page)):
        table_id = match.group(1)
        columns = _array_after(page, "columns", match.end())
        data = _array_after(page, "data", match.end())
        if columns is None or data is None:
            continue
        rows = _rows_html(columns[0], data[0])
        empty = re.compile(rf'(<table\s+id="{re.escape(table_id)}"[^>]*>)\s*</table>', re.S)
        page = empty.sub(lambda m, rows=rows: m.group(1) + rows + "</table>", page, count=1)
    return page


def offline_page(page: str) -> str:
    if OFFLINE_MARK in page:
        return page
    page = _render_tables(page)
    page = _EXTERNAL.sub("", page)
    # Every inline script drives a library that no longer loads (jQuery, bootstrap-table, Vega);
    # what they would have drawn is in the page now.
    page = _SCRIPT.sub("", page)
    for pattern, replacement in _ICONS.items():
        page = pattern.sub(replacement, page)
    # GX's own stylesheet paints its logo from a remote URL: nothing may load from outside.
    page = re.sub(r"url\(\s*['\"]?https?://[^)]*\)", "none", page)
    return page.replace("</head>", f"{STYLE}\n{OFFLINE_MARK}\n</head>", 1)


def make_offline(site: Path) -> int:
    """Rewrite every page of the Data Docs site at `site`; returns the pages changed."""
    changed = 0
    for path in sorted(Path(site).rglob("*.html")):
        page = path.read_text(encoding="utf-8")
        offline = offline_page(page)
        if offline != page:
            write_text(path, offline)
            changed += 1
    return changed
