"""Regenerate docs/img/explorer.png, the explorer's screenshot in the README and the docs.

    python scripts/make_explorer_picture.py [--out docs/img/explorer.png]

Builds the page of `tinygrad-seq graph --cell lstm --steps 6 -o graph.html`, opens it in headless
Chromium (Debian's `chromium`, driven by Playwright), opens step 2, plays the backward walk to its
end, selects W_hh^T (the `Contiguous` node, whose gradient arrived from every step) and saves a
screenshot. Needs graphviz's `dot`, `chromium` and `pip install playwright`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from tinygrad_seq.tasks import graph_command

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """() => {
  const E = window.__explorer;
  E.expand(2);
  E.fit();
  const v = E.view();
  E.setView({x: v.x, y: v.y + v.h * 0.22, w: v.w * 0.6, h: v.h * 0.56});
  document.querySelector('#speed').value = 100;
  E.playBackward();
}"""


def main() -> None:
    """Write the screenshot (1400 x 800 pixels) to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "explorer.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_path = graph_command("lstm", steps=6, output=Path(tmp) / "graph.html")
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function("window.__explorer && window.__explorer.ready")
            page.evaluate(SCRIPT)
            page.wait_for_function("window.__explorer.state === 'done'")
            page.evaluate(
                "() => { const E = window.__explorer;"
                " E.select(E.data.nodes.findIndex(n => n.label === 'Contiguous'), false); }"
            )
            page.screenshot(path=args.out)
            browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
