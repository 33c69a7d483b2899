"""No inline scripts, event handlers or styles anywhere: the Content-Security-Policy (script-src 'self'; style-src
'self', without 'unsafe-inline') would refuse them in the browser, so a page that relies on one is broken. This scan
fails when one is added later, before any browser sees it.

Scanned: every template folder (settings.TEMPLATES DIRS and each project app's templates/), the project's Python
sources outside tests and migrations (HTML and SVG built in code: format_html, mark_safe, chart builders), and our
own static JavaScript. Found: `<script>` with a body or without src (JSON data blocks excepted: never executed),
`<style>` elements, `style="..."` attributes, `on...=` handler attributes, `javascript:` URLs, and htmx attributes
that evaluate code (hx-on, hx-vars, `js:` values). SVG presentation attributes (fill=, stroke=, ...) are fine.
"""

import re
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.conf import settings

BASE = Path(settings.BASE_DIR)

# A start tag, with quoted attribute values that may hold ">".
TAG = re.compile(r"""<(?P<name>[a-zA-Z][\w:-]*)(?P<attrs>(?:[^>"']|"[^"]*"|'[^']*')*)>""")
SCRIPT = re.compile(
    r"""<script\b(?P<attrs>(?:[^>"']|"[^"]*"|'[^']*')*)>(?P<body>.*?)</script\s*>""", re.IGNORECASE | re.DOTALL
)
INLINE_ATTRIBUTE = re.compile(
    r"""(?:^|[\s}])(?P<attr>style|on[a-z]+|(?:data-)?hx-on[\w:.-]*|(?:data-)?hx-vars)\s*=""", re.IGNORECASE
)
QUOTED = re.compile(r""""[^"]*"|'[^']*'""")
DATA_BLOCK = re.compile(r"""\btype\s*=\s*["']?application/(?:ld\+)?json""", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)
HTMX_JS_VALUE = re.compile(r"""(?:data-)?hx-vals\s*=\s*["']\s*js:""", re.IGNORECASE)
# Our JavaScript: no code from strings, no style or handler attributes set from script.
JS_RULES = (
    (re.compile(r"\beval\s*\("), "eval()"),
    (re.compile(r"\bnew\s+Function\s*\("), "new Function()"),
    (re.compile(r"""setAttribute\(\s*["'](?:style|on[a-z]+)["']""", re.IGNORECASE), "setAttribute of style/on..."),
    (re.compile(r"""\b(?:setTimeout|setInterval)\(\s*["'`]"""), "setTimeout/setInterval with a string"),
)
DJANGO_COMMENT = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.DOTALL)


def _without_comments(text: str) -> str:
    """Template comments may mention what they avoid; blank them, keeping the line numbers."""
    return DJANGO_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def markup_findings(text: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each inline script, handler or style in HTML or SVG markup (a template or a Python source)."""
    text = _without_comments(text)
    for match in SCRIPT.finditer(text):
        attrs, body = match.group("attrs"), match.group("body")
        if DATA_BLOCK.search(attrs):
            continue
        if body.strip() or not re.search(r"\bsrc\s*=", attrs):
            yield _line(text, match.start()), "inline <script> (move it to static/js and load it with src=)"
    for match in STYLE_ELEMENT.finditer(text):
        yield _line(text, match.start()), "<style> element (move the rules to static/css)"
    for tag in TAG.finditer(text):
        for attribute in INLINE_ATTRIBUTE.finditer(QUOTED.sub('""', tag.group("attrs"))):
            name = attribute.group("attr").lower()
            what = "style attribute (use a class in static/css)" if name == "style" else f"{name}= handler"
            yield _line(text, tag.start()), f"<{tag.group('name')}> {what}"
    for match in JAVASCRIPT_URL.finditer(text):
        yield _line(text, match.start()), "javascript: URL"
    for match in HTMX_JS_VALUE.finditer(text):
        yield _line(text, match.start()), "hx-vals with js: (evaluated code)"


def script_findings(text: str) -> Iterator[tuple[int, str]]:
    for pattern, what in JS_RULES:
        for match in pattern.finditer(text):
            yield _line(text, match.start()), what


def _project_apps() -> list[Path]:
    """The apps of this repository (not Django's or a package's, even when the virtualenv is inside it)."""
    paths = [Path(app.path) for app in apps.get_app_configs()]
    return [p for p in paths if p.is_relative_to(BASE) and "site-packages" not in p.parts]


def template_files() -> list[Path]:
    folders = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    folders += [path / "templates" for path in _project_apps()]
    found = {f for folder in folders if folder.is_dir() for f in folder.rglob("*") if f.is_file()}
    return sorted(f for f in found if f.suffix in (".html", ".svg", ".xml", ".txt"))


def python_files() -> list[Path]:
    found = set()
    for app in _project_apps():
        for file in app.rglob("*.py"):
            parts = file.relative_to(app).parts
            if "tests" in parts or "migrations" in parts or file.name.startswith("test_"):
                continue
            found.add(file)
    return sorted(found)


def static_files() -> list[Path]:
    folders = [Path(d) for d in settings.STATICFILES_DIRS] + [path / "static" for path in _project_apps()]
    found = {f for folder in folders if folder.is_dir() for f in folder.rglob("*") if f.is_file()}
    return sorted(f for f in found if "vendor" not in f.parts and f.suffix in (".js", ".svg", ".html"))


def _report(files: list[Path], scan) -> list[str]:
    return [
        f"{file.relative_to(BASE)}:{line}: {what}"
        for file in files
        for line, what in scan(file.read_text(encoding="utf-8"))
    ]


# --- The scanner itself ----------------------------------------------------------------------------------------


def test_the_scanner_finds_each_kind_of_inline_code():
    page = """{% load static %}
<script>alert(1)</script>
<script src="{% static 'js/app.js' %}">console.log(2)</script>
<script nonce="x"></script>
<style>.x { color: red }</style>
<p style="color: red">a</p>
<button type="button" onclick="go()">b</button>
<div class="x"{% if a %} style="display:none"{% endif %}>c</div>
<a href="javascript:void(0)">d</a>
<form hx-on:submit="x()"></form>
<div hx-vals='js:{a: 1}'></div>
<svg><rect onload="x()" fill="#fff"/></svg>
"""
    lines = sorted(line for line, _ in markup_findings(page))
    assert lines == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]


def test_the_scanner_accepts_external_scripts_data_blocks_classes_and_svg_presentation_attributes():
    page = """{# a <style> or <script>alert(1)</script> in a comment is not code #}
{% comment %}<p style="x">{% endcomment %}
<script src="{% static 'vendor/htmx/htmx.min.js' %}" defer></script>
<script id="chart-data" type="application/json">{"a": 1}</script>
<p class="warning" data-style="x" title="onclick=">a</p>
<svg viewBox="0 0 10 10"><rect x="1" y="1" width="5" height="5" fill="#1f6feb" stroke="none"/></svg>
<label for="online">online=yes</label>
"""
    assert list(markup_findings(page)) == []


def test_the_scanner_finds_code_from_strings_in_our_javascript():
    script = 'el.setAttribute("style", "x");\neval("1");\nsetTimeout("go()", 10);\nel.style.display = "none";\n'
    assert sorted(line for line, _ in script_findings(script)) == [1, 2, 3]


# --- The project ---------------------------------------------------------------------------------------------------


def test_the_scan_covers_the_templates_and_the_code():
    templates = {str(f.relative_to(BASE)) for f in template_files()}
    assert {"templates/base.html", "templates/registration/login.html"} <= templates
    assert any(str(f.relative_to(BASE)) == "static/js/app.js" for f in static_files())
    assert any(f.name == "views.py" for f in python_files())
    assert not any("site-packages" in f.parts for f in [*template_files(), *python_files(), *static_files()])


def test_no_inline_scripts_handlers_or_styles_in_templates():
    found = _report(template_files(), markup_findings)
    assert not found, "inline code the Content-Security-Policy refuses:\n" + "\n".join(found)


def test_no_inline_scripts_handlers_or_styles_in_html_built_by_python():
    found = _report(python_files(), markup_findings)
    assert not found, "inline code the Content-Security-Policy refuses:\n" + "\n".join(found)


def test_no_code_from_strings_in_our_javascript():
    found = _report([f for f in static_files() if f.suffix == ".js"], script_findings)
    found += _report([f for f in static_files() if f.suffix != ".js"], markup_findings)
    assert not found, "code the Content-Security-Policy refuses:\n" + "\n".join(found)
