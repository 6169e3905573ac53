#!/usr/bin/env bash
# Set up vlcourse in ./.venv: Python 3.11+, PyTorch (CPU use; the pinned build installs from this
# machine's local wheel cache where there is one), the package with its test extras, and the
# bubblewrap sandbox for grading where apt-get can install it. Safe to run again: it only fills gaps.
#
#   ./setup.sh                 a student's JupyterLab: nbgrader's tools (Nbgrader menu, formgrader,
#                              Create Assignment, ...) are off; run again, it keeps a role set earlier
#   ./setup.sh --instructor    an instructor's or TA's: nbgrader's tools are on
#   ./setup.sh --student       back to a student's
set -euo pipefail

ROLE=""
for arg in "$@"; do
  case "$arg" in
    --student) ROLE=student ;;
    --instructor) ROLE=instructor ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg; use --student (the default) or --instructor" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "vlcourse needs Python >= 3.11 (found $("$PYTHON" --version)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install --disable-pip-version-check -q)

if ! .venv/bin/python -c 'import torch, torchvision' 2>/dev/null; then
  echo "installing torch==2.14.1 torchvision==0.29.1 (about a minute)..."
  "${PIP[@]}" torch==2.14.1 torchvision==0.29.1
fi
echo "installing vlcourse and its dependencies..."
"${PIP[@]}" -e ".[test]"

# Grading runs each submission under bubblewrap where it exists (see README, "For TAs").
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; }) \
    || echo "note: could not install bubblewrap; grading will use process isolation only"
fi
# The class report is checked in a headless browser (tests/test_class_report.py); best effort, like bubblewrap.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }) \
    || echo "note: could not install chromium; the class report's browser check will be skipped"
fi
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null 2>&1 || true
# Which of nbgrader's tools JupyterLab shows, written into .venv only (vlcourse/jupyter_role.py).
if [ -n "$ROLE" ]; then
  .venv/bin/vlcourse jupyter-role "$ROLE"
else
  .venv/bin/vlcourse jupyter-role student --unless-set
fi
echo "vlcourse is set up in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
