"""The TA's class report (vlcourse.grading.results.class_report): every section, and it renders in a browser."""

import shutil
import subprocess

import pytest

from vlcourse.grading.results.class_report import write_class_report
from vlcourse.grading.integrity.diagnosis import WRONG_RESULT, Signature
from vlcourse.grading.grade import SubmissionResult, TestReport

MAX = {"loss": 2.0, "mask": 1.0}


def student(name: str, passed: tuple[bool, bool, bool], status="ok", seconds=1.0) -> SubmissionResult:
    tests = [TestReport(cell, name, 1.0, float(ok), ok, reason="" if ok else WRONG_RESULT, name=name)
             for (cell, name), ok in zip([("loss", "test_values"), ("loss", "test_gradients"), ("mask", "test_mask")], passed)]
    scores = {"loss": float(passed[0] + passed[1]), "mask": float(passed[2])}
    return SubmissionResult(name, scores, dict(MAX), status=status, tests=tests, seconds=seconds,
                            messages=["timed out after 5 s in spin()"] if status == "timeout" else [])


@pytest.fixture
def report(tmp_path):
    results = [student("ada", (True, True, True)), student("bob", (False, True, True), seconds=9.5),
               student("cy", (False, True, False), status="timeout"), student("di", (True, True, False))]
    results[1].flags = ["loss: 0.93 similar to cy"]
    signatures = [Signature("temperature_twice", "loss", ("test_values",), "the temperature is applied twice"),
                  Signature("mask_transposed", "mask", ("test_mask",), "the mask looks at the future")]
    return write_class_report("01_demo: Demo", results, MAX, signatures, tmp_path / "report.html")


def test_report_has_every_section(report):
    page = report.read_text()
    for heading in ("Score distribution per graded cell", "Pass rate per hidden test", "Known mistakes in this class",
                    "Crashed, timed out", "Slowest submissions", "Copy detection"):
        assert heading in page
    assert page.count("data:image/png;base64,") == 3  # three inline plots: nothing else to ship
    assert "timed out after 5 s in spin()" in page and "loss: 0.93 similar to cy" in page
    assert "<td>temperature_twice</td><td>loss</td><td>2</td><td>bob, cy</td>" in page  # who made which known mistake
    assert page.index("bob") < page.index("9.5")  # the slowest is listed with its time
    assert "4 submissions, mean score 2.00 / 3" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium (setup.sh installs it where apt-get can)")
def test_report_renders_in_a_headless_browser(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,1600", report.as_uri()], check=True, capture_output=True, timeout=120)
    image = Image.open(shot).convert("RGB")
    colours = len(image.resize((300, 400)).getcolors(maxcolors=1 << 20))
    assert colours > 50, f"the rendered page looks blank ({colours} colours)"
