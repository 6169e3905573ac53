# cell: parse_answer
# why: sorts the caller's labels list in place (longest first, so that 'red circle' beats 'red'); the answers are right but the input is modified
import re


def parse_answer(text, labels):
    labels.sort(key=len, reverse=True)
    best = None
    for label in labels:
        match = re.search(rf"(?<![^\W_]){re.escape(label)}(?![^\W_])", text, flags=re.IGNORECASE)
        if match is not None and (best is None or match.start() < best[0]):
            best = (match.start(), label)
    return None if best is None else best[1]
