"""Werkzeug's URL builders compiled once per test process, not once per app.

Every test builds its own app (`create_app`), and werkzeug compiles two Python functions for each of the
app's ~100 URL rules as it adds them: about 55 of the 65 ms an app costs, the largest part of a typical
test's CPU. A builder is a plain function of the rule's text, its parsed parts, its defaults and whether
it appends unknown arguments as a query string; everything else (the converters, the map's encoding) it
reads from the rule it is bound to when it runs. So a builder compiled for one app's rule serves the same
rule of the next app, bound to that rule.

That reading of werkzeug's private `Rule._compile_builder` was checked for werkzeug CHECKED only (the
builders of all 510 URLs the app makes are identical with and without the patch); under another version the
patch is left off, and the tests are slower but never build a URL the app would not.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from importlib.metadata import version
from typing import Any

from werkzeug.routing.rules import Rule

Builder = Callable[..., tuple[str, str]]
CHECKED = "3.1"  # werkzeug's major.minor whose Rule._compile_builder this reads


def share_compiled_builders() -> Callable[[], None]:
    """Patch werkzeug's Rule to reuse builders; returns the function that undoes it."""
    if not version("werkzeug").startswith(f"{CHECKED}."):
        return lambda: None
    compile_builder = Rule._compile_builder
    compiled: dict[Hashable, Builder] = {}

    def reuse(rule: Rule, append_unknown: bool = True) -> Builder:
        key = (rule.rule, rule.host, rule.subdomain, tuple(rule._trace), append_unknown, _defaults(rule))
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = reuse  # type: ignore[method-assign]

    def undo() -> None:
        Rule._compile_builder = compile_builder  # type: ignore[method-assign]

    return undo


def _defaults(rule: Rule) -> tuple[tuple[str, str, str], ...]:
    # A default of a variable in the rule is folded into the builder by its converter, whose arguments are
    # in the rule's text.
    defaults: dict[str, Any] = rule.defaults or {}
    converters = rule._converters
    return tuple(
        sorted((name, repr(value), type(converters.get(name)).__name__) for name, value in defaults.items())
    )
