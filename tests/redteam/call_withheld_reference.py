# why: tries to use reference code withheld while grading, by import and by reading its source file
from pathlib import Path
import vlcourse.budget
source = Path(vlcourse.budget.__file__).read_text()
def add(a, b):
    try:
        vlcourse.budget.budget(full=1, quick=1, grade=1)
        return a + b  # the withheld function still worked
    except Exception:
        pass
    return a + b if "def budget" in source else a  # the withheld file was readable
