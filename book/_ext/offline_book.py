"""Nothing a page loads comes from outside the book: MathJax served locally, no Thebe.

MathJax comes from the ``django-static-mathjax`` package on PyPI (a copy of the official
MathJax 3.2.2 release; its ``es5/`` folder holds the combined components and their fonts). This
extension copies that folder to ``_static/mathjax/`` of the HTML output and points Sphinx's
``mathjax_path`` at it. Pages load MathJax whether or not they hold an equation, because the
sidebar shows chapter titles that may contain math.

Jupyter Book always loads sphinx-thebe, whose scripts (declared twice on every page, a console
error) would fetch Thebe from a CDN on demand. The book offers Colab, not live code, so its
assets are dropped from every page.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.fileutil import copy_asset

#: the combined component: TeX input, CommonHTML output, with its woff fonts beside it
MATHJAX_COMPONENT = "mathjax/tex-chtml.js"
#: TeX extensions loaded on top of it (served from the same folder)
EXTRA_TEX_PACKAGES = ["[tex]/mathtools"]


def mathjax_es5() -> Path:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError("MathJax is missing: pip install django-static-mathjax (see requirements.txt)")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise ExtensionError(f"no es5/tex-chtml.js in the installed MathJax package ({es5})")
    return es5


def _configure(app: Sphinx, config) -> None:
    config.mathjax_path = MATHJAX_COMPONENT
    # docstrings use mathtools environments (psmallmatrix), which the combined component does not autoload
    mj = dict(config.mathjax3_config or {})
    loader = dict(mj.get("loader", {}))
    loader["load"] = [*loader.get("load", []), *(p for p in EXTRA_TEX_PACKAGES if p not in loader.get("load", []))]
    tex = dict(mj.get("tex", {}))
    packages = dict(tex.get("packages", {}))
    packages["[+]"] = [*packages.get("[+]", []), *(p.rsplit("/", 1)[1] for p in EXTRA_TEX_PACKAGES)]
    tex["packages"] = packages
    mj.update(loader=loader, tex=tex)
    config.mathjax3_config = mj
    app.set_html_assets_policy("always")


def _copy(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    es5, dest = mathjax_es5(), Path(app.outdir) / "_static" / "mathjax"
    # every folder (extensions, fonts, menu, accessibility) but, of the ~14 MB of other combined
    # components beside it, only the one the pages load
    for item in es5.iterdir():
        if item.is_dir():
            copy_asset(str(item), str(dest / item.name))
    copy_asset(str(es5 / Path(MATHJAX_COMPONENT).name), str(dest))


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE" in body


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    # without a default mode the theme logs "Got invalid theme mode" on a reader's first visit;
    # figures are drawn on white, so the book opens light
    if not context.get("default_mode"):
        context["default_mode"] = "light"
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe(a)]


def setup(app: Sphinx) -> dict:
    mathjax_es5()  # fail early, before reading every page
    app.connect("config-inited", _configure, priority=900)
    app.connect("builder-inited", _copy)
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
