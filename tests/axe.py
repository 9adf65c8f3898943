"""Accessibility checks in the browser tests with axe-core, vendored at a pinned version (4.10.2, from the npm
registry: `npm pack axe-core@4.10.2`, MPL-2.0) so a test run fetches nothing.

Evaluated through the browser's debugging protocol, which the pages' Content-Security-Policy does not
govern: the app itself stays free of any inline or third-party script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.10.2" / "axe.min.js"
SEVERE = ("serious", "critical")


def severe_violations(page: Any) -> list[str]:
    """WCAG 2 A/AA violations of impact serious or critical on the page as it is now: 'rule: target, …'."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
          return result.violations
            .filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
        }"""
    )
    return list(found)
