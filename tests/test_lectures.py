"""The lecture notebooks: up to date with their sources, every topic present, executed in a real kernel
at VLCOURSE_BUDGET=quick without an error, rendered by ``jupyter nbconvert --to slides`` into a reveal.js
deck, and that deck looked at in a headless browser (with the reveal.js copy vendored in lectures/vendor)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
NOTEBOOKS = ("01_self_supervised.ipynb", "02_vision_language.ipynb")
VENDOR = LECTURES / "vendor"

# Every topic of issue 14 and the slide text, and where its section is (a string its slides must contain).
TOPICS = {
    "01_self_supervised.ipynb": ["Learning outcomes", "NPID", "memory bank", "SimCLR", "only raise the diagonal",
                                 "Perplexity", "erudite", "GPT-1", "GPT-3", "RLHF", "in-context learning", "MAE",
                                 "what is missing for vision", "Recap"],
    "02_vision_language.ipynb": ["Learning outcomes", "CLIP", "Zero-shot", "LiT", "Socratic", "ALIGN",
                                 "Conceptual Captions", "LAION", "Privacy", "CoCa", "ClipCap", "BLIP", "ITM",
                                 "CapFilt", "BLIP-2", "Q-Former", "VQA", "VisDial", "Flamingo", "Perceiver resampler",
                                 "Frozen", "dax", "FROMAGe", "Kosmos-1", "emergent", "Kirsch", "Chain-of-thought",
                                 "Self-consistency", "LoRA", "PGN", "Recap"],
}


def test_notebooks_are_generated_from_their_sources():
    sys.path.insert(0, str(LECTURES))
    try:
        import build_lectures
    finally:
        sys.path.remove(str(LECTURES))
    assert build_lectures.main(["--check"]) == 0, "run python lectures/build_lectures.py"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_slide_structure(name):
    nb = nbformat.read(LECTURES / name, as_version=4)
    types = [cell.metadata["slideshow"]["slide_type"] for cell in nb.cells]
    assert set(types) <= {"slide", "subslide", "fragment", "skip", "notes", "-"}
    shown = [c for c in nb.cells if c.metadata["slideshow"]["slide_type"] != "skip"]
    assert shown[0].metadata["slideshow"]["slide_type"] == "slide"
    outcomes = next(i for i, c in enumerate(shown) if "Learning outcomes" in c.source)
    assert outcomes <= 2, "the learning outcomes come first"
    assert shown[-1].source.startswith("## Recap"), "the recap comes last"
    text = "\n".join(c.source for c in nb.cells)
    for topic in TOPICS[name]:
        assert topic.lower() in text.lower(), f"{name} has no section on {topic!r}"
    # one idea per slide: no slide's markdown runs on for more than ~20 lines
    for cell in shown:
        if cell.cell_type == "markdown":
            assert cell.source.count("\n") < 22, cell.source[:80]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Both notebooks executed in a real kernel at the quick budget, written to a temporary folder."""
    from nbclient import NotebookClient

    out = tmp_path_factory.mktemp("lectures")
    old = os.environ.get("VLCOURSE_BUDGET")
    os.environ["VLCOURSE_BUDGET"] = "quick"
    try:
        for name in NOTEBOOKS:
            nb = nbformat.read(LECTURES / name, as_version=4)
            NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(LECTURES)}}).execute()
            nbformat.write(nb, out / name)
    finally:
        if old is None:
            os.environ.pop("VLCOURSE_BUDGET")
        else:
            os.environ["VLCOURSE_BUDGET"] = old
    return out


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lecture_executes_without_errors(executed, name):
    nb = nbformat.read(executed / name, as_version=4)
    figures = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{output.ename}: {output.evalue}"
            if output.output_type == "stream":
                assert "Traceback" not in output.text and "Error" not in output.text, output.text
            figures += "image/png" in output.get("data", {})
    assert figures >= {"01_self_supervised.ipynb": 7, "02_vision_language.ipynb": 18}[name]
    assert "budget: quick" in nb.cells[1].outputs[0].text


MATHJAX = VENDOR / "mathjax-2.7.9" / "MathJax.js"
MATHJAX_CONFIG = "?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/lectures"  # as lectures/README.md says
# Chromium with no network: every http(s) request goes to a proxy that is not there, every host name fails to resolve
NO_NETWORK = ["--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]


def render_slides(notebook: Path, out: Path, offline: bool, local_mathjax: bool = True) -> Path:
    """The deck of ``notebook`` in ``out``; ``offline``: with the vendored reveal.js, require.js and (unless
    ``local_mathjax`` is False) MathJax instead of nbconvert's CDN addresses."""
    args = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "slides", str(notebook), "--output-dir", str(out)]
    if offline:
        args += [f"--SlidesExporter.reveal_url_prefix={(VENDOR / 'reveal.js-4.0.2').as_uri()}",
                 f"--SlidesExporter.require_js_url={(VENDOR / 'requirejs-2.3.6' / 'require.js').as_uri()}",
                 "--SlidesExporter.jquery_url="]
        if local_mathjax:
            args += [f"--SlidesExporter.mathjax_url={MATHJAX.as_uri()}{MATHJAX_CONFIG}"]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return out / notebook.name.replace(".ipynb", ".slides.html")


@pytest.fixture(scope="module")
def decks(executed):
    return {name: render_slides(executed / name, executed, offline=True) for name in NOTEBOOKS}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_deck_has_every_section_and_figure(decks, executed, name):
    page = decks[name].read_text()
    assert '<div class="reveal">' in page and "reveal.js-4.0.2/dist/reveal.js" in page
    assert "mathjax-2.7.9/MathJax.js" in page and "libs/mathjax" not in page, "the deck should load the vendored MathJax"
    nb = nbformat.read(executed / name, as_version=4)
    slides = sum(c.metadata["slideshow"]["slide_type"] in ("slide", "subslide") for c in nb.cells)
    assert page.count("<section") >= slides
    for topic in TOPICS[name]:
        assert topic.lower() in page.lower()
    assert page.count("data:image/png;base64,") >= (7 if name.startswith("01") else 18)


def slide_address(notebook: Path, heading: str, sub: int = 0) -> str:
    """reveal.js's ``h/v`` address of the horizontal slide whose markdown starts with ``heading``."""
    nb = nbformat.read(notebook, as_version=4)
    horizontal = -1
    for cell in nb.cells:
        if cell.metadata["slideshow"]["slide_type"] == "slide":
            horizontal += 1
            if cell.source.startswith(heading):
                return f"{horizontal}/{sub}"
    raise AssertionError(f"no slide starts with {heading!r}")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium (setup.sh installs it where apt-get can)")
def test_decks_render_as_slides_in_a_headless_browser(decks, tmp_path):
    from PIL import Image

    def shot(deck: Path, slide: str) -> Image.Image:
        path = tmp_path / f"{deck.stem}-{slide.replace('/', '_')}.png"
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                        "--virtual-time-budget=15000", f"--screenshot={path}", "--window-size=1280,720",
                        f"{deck.as_uri()}#/{slide}"], check=True, capture_output=True, timeout=120)
        return Image.open(path).convert("RGB")

    title = shot(decks[NOTEBOOKS[0]], "0")
    npid_address = slide_address(LECTURES / NOTEBOOKS[0], "## NPID", sub=1)  # its demo
    npid_demo = shot(decks[NOTEBOOKS[0]], npid_address)
    if npid_demo.tobytes() == title.tobytes():  # a loaded machine can take the shot before reveal.js has moved
        npid_demo = shot(decks[NOTEBOOKS[0]], npid_address)
    flamingo = shot(decks[NOTEBOOKS[1]], slide_address(LECTURES / NOTEBOOKS[1], "## Flamingo", sub=1))
    for image in (title, npid_demo, flamingo):
        colours = len(image.resize((320, 180)).getcolors(maxcolors=1 << 20))
        assert colours > 20, f"a slide looks blank ({colours} colours)"
    assert title.tobytes() != npid_demo.tobytes(), "navigating to another slide shows the same page: reveal.js not running"
    # reveal.js lays out one slide per screen: the title slide does not show the following slides' text,
    # so its lower half is mostly background
    lower = title.crop((0, 400, 1280, 720)).convert("L")
    assert sum(lower.histogram()[250:]) > 0.8 * 1280 * 320


def browser_dom(deck: Path, slide: str) -> str:
    """The page's DOM after its scripts ran, in headless Chromium with the network unavailable."""
    done = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                           *NO_NETWORK, "--virtual-time-budget=20000", "--dump-dom", f"{deck.as_uri()}#/{slide}"],
                          check=True, capture_output=True, text=True, timeout=180)
    return done.stdout


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium (setup.sh installs it where apt-get can)")
def test_equations_are_typeset_with_no_network(decks, executed, tmp_path):
    """The CLIP slide's loss is typeset by the vendored MathJax (no CDN); the same deck with nbconvert's default
    MathJax address, under the same blocked network, leaves it as TeX source: the check can fail."""
    name = NOTEBOOKS[1]
    slide = slide_address(LECTURES / name, "## CLIP")
    offline = browser_dom(decks[name], slide)
    assert offline.count('class="MathJax_Display"') >= 1, "the displayed CLIP loss was not typeset"
    assert offline.count('class="MathJax"') >= 5
    assert "Math Processing Error" not in offline and 'class="MathJax_Error"' not in offline
    assert "STIXMathJax_Main" in offline, "typeset without the vendored web fonts"
    cdn_deck = render_slides(executed / name, tmp_path, offline=True, local_mathjax=False)
    assert "cdnjs.cloudflare.com/ajax/libs/mathjax" in cdn_deck.read_text()
    cdn = browser_dom(cdn_deck, slide)
    assert 'class="MathJax' not in cdn.replace('class="MathJax_Preview"', ""), "the network was not blocked"
    assert "\\mathcal{L}" in cdn
