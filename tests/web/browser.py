"""What every browser test checks on a page: no console error, no missing translation, no serious or
critical axe-core violation; and the screenshots of the key pages for docs/screenshots/."""

from dataclasses import dataclass, field
from typing import Any

from tests.conftest import ROOT

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
MISSING_MARK = "⟦"  # what the app shows for a key its catalogue lacks (frontend/src/i18n/index.tsx)
VIEWPORT = {"width": 1280, "height": 860}
OPEN_PAGES: list[Any] = []  # for the screenshots on failure (conftest.py)


@dataclass
class Watched:
    """A page with its console errors and failed requests collected as they happen."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def clean(self) -> list[str]:
        found, self.errors[:] = list(self.errors), []
        return found


def open_page(context: Any) -> Watched:
    page = context.new_page()
    OPEN_PAGES.append(page)
    watched = Watched(page)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(f"uncaught: {e}"))
    return watched


def untranslated(page: Any) -> list[str]:
    """Texts on the page that show a missing catalogue key."""
    text: str = page.evaluate("document.body.innerText")
    return [line for line in text.splitlines() if MISSING_MARK in line]


def serious_axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA rules on the page as rendered; only serious and critical ones count."""
    # Colours are judged as they end, not halfway through a fade.
    page.add_style_tag(content="* { transition: none !important; animation: none !important; }")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const tags = ["wcag2a", "wcag2aa", "wcag21aa"];
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
