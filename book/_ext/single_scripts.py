"""Sphinx extension: each inline or linked script once per page.

Under jupyter-book 1 and Sphinx 7.4, the inline scripts that sphinx-thebe and
sphinx-togglebutton add while the build runs reach every page twice (once as
registered, once copied into the builder with file ``""`` instead of
``None``); the second ``const THEBE_JS_URL = ...`` is a SyntaxError in every
page's console. Drop the repeats, keeping the first.
"""

from __future__ import annotations


def _key(script) -> tuple:
    """A script's file and attributes. An inline script's file is None when
    registered during the build and "" when copied from the registry."""
    attributes = getattr(script, "attributes", {})
    filename = getattr(script, "filename", script) or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def setup(app):
    # Early: Sphinx stops calling html-page-context handlers at the first one
    # that returns a template name, so a late handler may never run.
    app.connect("html-page-context", _drop_repeated_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
