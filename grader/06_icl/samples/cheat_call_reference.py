# cell: few_shot_prompt
# why: imports the course's reference instead of writing it (withheld while grading: the cell fails)
# expect: zero
from vlcourse.icl.prompting import build_few_shot_prompt

TEMPLATE = "{input} -> {label}"
