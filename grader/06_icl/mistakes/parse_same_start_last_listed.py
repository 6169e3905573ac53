# cell: parse_answer
# why: at the same start the label listed later wins (<= on the start only), so 'red' beats 'red circle' when it comes after it in labels
import re


def parse_answer(text, labels):
    best = None
    for label in labels:
        match = re.search(rf"(?<![^\W_]){re.escape(label)}(?![^\W_])", text, flags=re.IGNORECASE)
        if match is not None and (best is None or match.start() <= best[0]):
            best = (match.start(), label)
    return None if best is None else best[1]
