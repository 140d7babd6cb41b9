"""Regenerate docs/img/explorer.png, the explorer's screenshot in the README and the docs.

    python scripts/make_explorer_picture.py [--out docs/img/explorer.png]
    python scripts/make_explorer_picture.py --transformer   # docs/img/explorer_transformer.png

Builds the page of `tinygrad-seq graph --cell lstm --steps 6 -o graph.html`, opens it in headless
Chromium (Debian's `chromium`, driven by Playwright), opens step 2, plays the backward walk to its
end, selects W_hh^T (the `Contiguous` node, whose gradient arrived from every step) and saves a
screenshot. With --transformer: a 2-layer encoder (2 heads, run inside `viz.separate_heads()`),
layer 1 opened, its head 1 softmax selected. Needs graphviz's `dot`, `chromium` and
`pip install playwright`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import tinygrad_seq as ts
from tinygrad_seq import nn, viz
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


TRANSFORMER_SCRIPT = """() => {
  const E = window.__explorer;
  const box = document.querySelector('g.node[data-cell="1"]');  // click it: it opens, fitted
  box.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  const v = E.view(); // the opened layer, fitted: zoom to its attention and heads
  E.setView({x: v.x, y: v.y, w: v.w * 0.45, h: v.h});
  E.select(E.data.cells[1].nodes.find(i => E.data.nodes[i].label === 'Softmax'
                                      && E.data.nodes[i].scope.endsWith('head 1')), false);
}"""


def transformer_page(path: Path) -> Path:
    """The explorer page of a 2-layer, 2-head encoder with a squared-error loss."""
    ts.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    x, target = ts.randn(5, 1, 8), ts.randn(5, 1, 8)
    with viz.separate_heads():
        loss = ((encoder(x) - target) ** 2).mean()
    return viz.explore(loss, params=encoder).save(path)


def main() -> None:
    """Write the screenshot (1400 x 800 pixels) to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--transformer", action="store_true", help="the Transformer's picture")
    args = parser.parse_args()
    name = "explorer_transformer.png" if args.transformer else "explorer.png"
    args.out = args.out or str(ROOT / "docs" / "img" / name)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        if args.transformer:
            page_path = transformer_page(Path(tmp) / "graph.html")
        else:
            page_path = graph_command("lstm", steps=6, output=Path(tmp) / "graph.html")
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function("window.__explorer && window.__explorer.ready")
            if args.transformer:
                page.evaluate(TRANSFORMER_SCRIPT)
            else:
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
