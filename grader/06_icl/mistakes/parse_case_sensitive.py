# cell: parse_answer
# why: compares case-sensitively: ' Dax' and '**WUG**' are not found
import re


def parse_answer(text, labels):
    best = None  # (start, -length, label): the smallest wins
    for label in labels:
        # [^\W_] is a letter or a digit: the label may not touch one on either side
        match = re.search(rf"(?<![^\W_]){re.escape(label)}(?![^\W_])", text)
        if match is not None and (best is None or (match.start(), -len(label)) < best[:2]):
            best = (match.start(), -len(label), label)
    return None if best is None else best[2]
