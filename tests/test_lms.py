"""LMS downloads in, LMS grades out: Canvas and Moodle layouts, zips, deadlines, import files.

Classes are built as real files (real zip archives) around the toy assignment and graded for real.
"""

import csv
import io
import zipfile
from pathlib import Path

import nbformat
import pytest

from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.classroom import grade_class
from vlcourse.grading.intake.due import DuePolicy, assess, parse_time
from vlcourse.grading.intake.lms import detect_layout, read_submissions
from vlcourse.grading.results.lms_export import CANVAS_FILE, MOODLE_FILE
from vlcourse.grading.intake.unzip import ZipLimits, safe_extract, unpack_student_zip
from vlcourse.usererrors import UserError

COURSE = Path(__file__).parent / "fixtures" / "course"


@pytest.fixture(scope="module")
def toy():
    return load_assignment("00_toy", COURSE)


def notebook_text(toy, kind: str) -> str:
    """The toy notebook as handed in: ``correct``, ``blank`` or ``wrong`` (scale adds instead)."""
    path = toy.exercise_notebook if kind == "blank" else toy.solution_notebook
    nb = nbformat.read(path, as_version=4)
    if kind == "wrong":
        cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "scale")
        cell.source = "def scale(x, k):\n    return x + k"
    return nbformat.writes(nb)


def zip_bytes(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# --- Canvas ----------------------------------------------------------------------------------------


def canvas_download(toy, path: Path) -> Path:
    """A Canvas bulk download as a zip: late marker, a resubmission, a student's own zip, junk."""
    files = {
        "adalovelace_101_5001_toy.ipynb": notebook_text(toy, "correct"),
        "bobbytables_LATE_102_5002_toy.ipynb": notebook_text(toy, "blank"),
        "carlgauss_103_5003_toy.ipynb": notebook_text(toy, "wrong"),
        "carlgauss_103_5010_toy-1.ipynb": notebook_text(toy, "correct"),  # resubmitted: this one counts
        "dorathea_104_5004_work.zip": zip_bytes({"work/toy.ipynb": notebook_text(toy, "correct"),
                                                 "__MACOSX/work/._toy.ipynb": b"junk"}),
        "__MACOSX/._adalovelace_101_5001_toy.ipynb": b"junk",
    }
    path.write_bytes(zip_bytes(files))
    return path


@pytest.fixture(scope="module")
def canvas_graded(toy, tmp_path_factory):
    root = tmp_path_factory.mktemp("canvas")
    download = canvas_download(toy, root / "submissions.zip")
    result = grade_class(toy, download, root / "out", progress=False, workers=1, due=DuePolicy(penalty_per_day=0.1))
    return result, root


def test_canvas_download_is_recognised_and_latest_hand_in_wins(canvas_graded):
    result, _ = canvas_graded
    assert result.intake.layout == "canvas"
    totals = {r.student: r.total for r in result.results}
    assert totals == {"adalovelace": 4, "bobbytables": 0, "carlgauss": 4, "dorathea": 4}
    assert any("the latest (carlgauss_103_5010_toy-1.ipynb) counts" in note for note in result.intake.notes)


def test_student_zip_is_unpacked_with_a_note(canvas_graded):
    result, root = canvas_graded
    dora = next(r for r in result.results if r.student == "dorathea")
    assert any("unpacked work.zip (1 files)" in m for m in dora.messages)
    assert "unpacked work.zip" in result.summary()
    assert "unpacked work.zip" in (root / "out" / "feedback" / "dorathea.html").read_text()


def test_canvas_late_marker_costs_one_day_in_csv_and_feedback(canvas_graded):
    result, root = canvas_graded
    rows = read_csv(root / "out" / "grades.csv")
    assert rows[0][-4:] == ["handed_in", "late", "penalty", "final"]
    table = {row[0]: row for row in rows[1:]}
    assert table["bobbytables"][-3:-1] == ["yes", "10%"]
    assert table["adalovelace"][-3:] == ["", "", "4"]
    page = (root / "out" / "feedback" / "bobbytables.html").read_text()
    assert "Late hand-in" in page and "10%" in page
    assert "Late: bobbytables" in result.summary()


def test_canvas_import_round_trip(canvas_graded):
    """Every Canvas user id of the download comes back in the import file with the student's score."""
    result, root = canvas_graded
    rows = read_csv(root / "out" / CANVAS_FILE)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "00_toy"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "4"
    by_id = {row[1]: (row[0], row[-1]) for row in rows[2:]}
    assert by_id == {"101": ("adalovelace", "4"), "102": ("bobbytables", "0"), "103": ("carlgauss", "4"),
                     "104": ("dorathea", "4")}
    assert result.lms_file == root / "out" / CANVAS_FILE


def test_canvas_unpacked_folder_reads_the_same(toy, tmp_path):
    download = canvas_download(toy, tmp_path / "download.zip")
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(download) as zf:
        zf.extractall(folder)
    intake = read_submissions(folder, "00_toy", tmp_path / "staging")
    assert intake.layout == "canvas"
    assert sorted(intake.hand_ins) == ["adalovelace", "bobbytables", "carlgauss", "dorathea"]
    assert intake.hand_ins["bobbytables"].late_marker and not intake.hand_ins["adalovelace"].late_marker
    assert (intake.hand_ins["carlgauss"].folder / "toy.ipynb").read_text() == notebook_text(toy, "correct")
    assert sorted(p.name for p in intake.hand_ins["dorathea"].folder.iterdir()) == ["toy.ipynb"]
    assert (folder / "dorathea_104_5004_work.zip").exists()  # the download itself is left alone


def test_canvas_same_name_twice_keeps_both_students_and_links_are_not_followed(toy, tmp_path):
    (tmp_path / "dl").mkdir()
    for user in ("7", "8"):
        (tmp_path / "dl" / f"leemin_{user}_90{user}_toy.ipynb").write_text(notebook_text(toy, "correct"))
    (tmp_path / "secret.txt").write_text("grader's secret")
    (tmp_path / "dl" / "leemin_7_950_secret.txt").symlink_to(tmp_path / "secret.txt")
    intake = read_submissions(tmp_path / "dl", "00_toy", tmp_path / "staging")
    assert sorted(intake.hand_ins) == ["leemin_7", "leemin_8"]
    assert not (intake.hand_ins["leemin_7"].folder / "secret.txt").exists()


@pytest.mark.parametrize("marker", ["_LATE", "_late", "_Late", "_lAtE"])
def test_canvas_late_marker_in_any_case(toy, tmp_path, marker):
    """Every spelling of the marker is a late Canvas hand-in, never an ignored file."""
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / f"bobbytables{marker}_102_5002_toy.ipynb").write_text(notebook_text(toy, "blank"))
    (tmp_path / "dl" / "adalovelace_101_5001_toy.ipynb").write_text(notebook_text(toy, "correct"))
    intake = read_submissions(tmp_path / "dl", "00_toy", tmp_path / "staging")
    assert intake.layout == "canvas" and not intake.notes
    assert sorted(intake.hand_ins) == ["adalovelace", "bobbytables"]
    assert intake.hand_ins["bobbytables"].late_marker and not intake.hand_ins["adalovelace"].late_marker


def test_late_in_a_student_name_or_file_name_is_not_the_marker(toy, tmp_path):
    """Names that contain "late" (slater, late, Platon) and a file called late_toy.ipynb are on time."""
    (tmp_path / "dl").mkdir()
    for name in ("slater_301_6001_toy.ipynb", "late_302_6002_toy.ipynb", "Platon_303_6003_late_toy.ipynb",
                 "latecomer_Late_304_6004_toy.ipynb"):
        (tmp_path / "dl" / name).write_text(notebook_text(toy, "correct"))
    intake = read_submissions(tmp_path / "dl", "00_toy", tmp_path / "staging")
    assert not intake.notes
    late = {student: hand_in.late_marker for student, hand_in in intake.hand_ins.items()}
    assert late == {"slater": False, "late": False, "Platon": False, "latecomer": True}
    assert [p.name for p in intake.hand_ins["Platon"].folder.iterdir()] == ["late_toy.ipynb"]


# --- Moodle ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moodle_graded(toy, tmp_path_factory):
    root = tmp_path_factory.mktemp("moodle")
    download = root / "Course-Toy-123"
    for name, pid, kind in (("Ada Lovelace", "201", "correct"), ("Bob Tables", "202", "wrong")):
        folder = download / f"{name}_{pid}_assignsubmission_file_"
        folder.mkdir(parents=True)
        (folder / "toy.ipynb").write_text(notebook_text(toy, kind))
        (folder / "notes.txt").write_text("several files per student")
    text = download / "Bob Tables_202_assignsubmission_onlinetext_"
    text.mkdir()
    (text / "onlinetext.html").write_text("<p>see my notebook</p>")
    result = grade_class(toy, download, root / "out", progress=False, workers=1)
    return result, root


def test_moodle_download_is_recognised(moodle_graded):
    result, _ = moodle_graded
    assert result.intake.layout == "moodle"
    assert {r.student: r.total for r in result.results} == {"Ada Lovelace": 4, "Bob Tables": 2}
    assert any("onlinetext" in note for note in result.intake.notes)
    assert (result.intake.hand_ins["Ada Lovelace"].folder / "notes.txt").exists()


def test_moodle_worksheet_round_trip(moodle_graded):
    """Every participant id of the download comes back as ``Participant <id>`` with the grade."""
    _, root = moodle_graded
    rows = read_csv(root / "out" / MOODLE_FILE)
    assert rows[0][:6] == ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade"]
    by_id = {row[0]: (row[1], row[4], row[5]) for row in rows[1:]}
    assert by_id == {"Participant 201": ("Ada Lovelace", "4.00", "4.00"),
                     "Participant 202": ("Bob Tables", "2.00", "4.00")}
    assert "scale 0/2" in rows[2][-1]
    assert not (root / "out" / CANVAS_FILE).exists()


# --- nbgrader exchange with a deadline --------------------------------------------------------------


def test_exchange_timestamps_meet_the_deadline(toy, tmp_path):
    inbound = tmp_path / "inbound"
    for student, stamp in (("ada", "2026-03-01 10:00:00.000000 UTC"), ("bob", "2026-03-03 09:30:00.000000 UTC")):
        folder = inbound / f"{student}+00_toy+{stamp}"
        folder.mkdir(parents=True)
        (folder / "toy.ipynb").write_text(notebook_text(toy, "correct"))
    policy = DuePolicy(parse_time("2026-03-01T23:59:00+00:00"), penalty_per_day=0.25)
    result = grade_class(toy, inbound, tmp_path / "out", progress=False, workers=1, due=policy)
    table = {row[0]: row for row in read_csv(tmp_path / "out" / "grades.csv")[1:]}
    assert table["ada"][-4:] == ["2026-03-01T10:00:00+00:00", "", "", "4"]
    assert table["bob"][-4:] == ["2026-03-03T09:30:00+00:00", "2 day(s)", "50%", "2"]
    assert result.intake.layout == "folders"
    assert not (tmp_path / "out" / CANVAS_FILE).exists() and result.lms_file is None


def test_due_policy_from_assignment_toml(toy, tmp_path):
    from vlcourse.grading.intake.due import load_due

    (tmp_path / "assignment.toml").write_text('notebook = "x.ipynb"\n[due]\ndeadline = 2026-03-01T23:59:00+01:00\n'
                                              "penalty_per_day = 0.1\ngrace_minutes = 30\nmax_days_late = 3\n")
    policy = load_due(tmp_path)
    assert policy.deadline == parse_time("2026-03-01T22:59:00Z")
    assert not assess(policy, parse_time("2026-03-01T23:20:00+01:00")).late  # inside the grace period
    assert assess(policy, parse_time("2026-03-02T01:00:00+01:00")).penalty == pytest.approx(0.1)
    assert assess(policy, parse_time("2026-03-10T00:00:00+01:00")).penalty == 1.0  # past max_days_late
    (tmp_path / "assignment.toml").write_text('notebook = "x.ipynb"\n[due]\npenalty_per_day = 3\n')
    with pytest.raises(ValueError, match="between 0 and 1"):
        load_due(tmp_path)


# --- layouts and safe unzipping --------------------------------------------------------------------


def test_detect_layout(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "jane_1_2_x.ipynb").write_text("")
    (tmp_path / "b" / "Jane Doe_5_assignsubmission_file_").mkdir(parents=True)
    (tmp_path / "c" / "jane").mkdir(parents=True)
    assert [detect_layout(tmp_path / n) for n in "abc"] == ["canvas", "moodle", "folders"]


def test_empty_download_is_a_user_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no submissions found"):
        read_submissions(tmp_path / "empty", "00_toy", tmp_path / "staging")
    (tmp_path / "not.zip").write_text("plain text")
    with pytest.raises(UserError, match="not a zip file"):
        read_submissions(tmp_path / "not.zip", "00_toy", tmp_path / "staging")
    (tmp_path / "out" / "intake" / "ada").mkdir(parents=True)
    with pytest.raises(UserError, match="move them out of --out"):
        read_submissions(tmp_path / "out" / "intake", "00_toy", tmp_path / "out" / "intake")
    assert (tmp_path / "out" / "intake" / "ada").is_dir()  # never emptied


def test_zip_paths_outside_the_folder_and_links_are_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escaped.txt", "x")
        zf.writestr("/tmp/absolute.txt", "x")
        zf.writestr("sub/../../escaped2.txt", "x")
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("good/toy.ipynb", "{}")
    out = tmp_path / "student"
    extracted = safe_extract(archive, out)
    assert extracted.files == ["good/toy.ipynb"]
    assert len(extracted.notes) == 4
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "escaped2.txt").exists()
    assert not (out / "link").exists() and not Path("/tmp/absolute.txt").exists()


def test_zip_bomb_and_size_and_count_limits(tmp_path):
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(zip_bytes({"zeros.bin": b"\0" * (4 << 20)}))  # ~1000x
    assert safe_extract(bomb, tmp_path / "a").files == []
    big = tmp_path / "big.zip"
    big.write_bytes(zip_bytes({f"r{i}.bin": bytes(range(256)) * 2048 for i in range(4)}))  # 4 x 512 KiB
    extracted = safe_extract(big, tmp_path / "b", ZipLimits(max_bytes=1 << 20, max_ratio=1e9))
    assert len(extracted.files) == 2 and "more than 1 MiB" in extracted.notes[0]
    many = tmp_path / "many.zip"
    many.write_bytes(zip_bytes({f"f{i}.txt": "x" for i in range(5)}))
    extracted = safe_extract(many, tmp_path / "c", ZipLimits(max_files=3))
    assert extracted.files == [] and "over the limit of 3" in extracted.notes[0]


def test_student_zip_does_not_overwrite_loose_files(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "toy.ipynb").write_text("loose")
    (folder / "hand_in.zip").write_bytes(zip_bytes({"toy.ipynb": "zipped", "extra.txt": "x"}))
    notes = unpack_student_zip(folder / "hand_in.zip", folder)
    assert (folder / "toy.ipynb").read_text() == "loose" and (folder / "extra.txt").exists()
    assert not (folder / "hand_in.zip").exists()
    assert any("kept the loose copies of toy.ipynb" in n for n in notes)


def test_nbgrader_submitted_timestamp_is_the_hand_in_time(toy, tmp_path):
    folder = tmp_path / "course" / "submitted" / "ada" / "00_toy"
    folder.mkdir(parents=True)
    (folder / "toy.ipynb").write_text(notebook_text(toy, "correct"))
    (folder / "timestamp.txt").write_text("2026-03-02 08:15:00.123456 UTC\n")
    intake = read_submissions(tmp_path / "course", "00_toy", tmp_path / "staging")
    assert intake.hand_ins["ada"].handed_in == parse_time("2026-03-02T08:15:00.123456+00:00")
    late = assess(DuePolicy(parse_time("2026-03-01T23:59:00Z"), penalty_per_day=0.1), intake.hand_ins["ada"].handed_in)
    assert (late.late, late.days_late, late.penalty) == (True, 1, pytest.approx(0.1))
