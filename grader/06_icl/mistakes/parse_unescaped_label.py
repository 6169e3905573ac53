# cell: parse_answer
# why: puts the label into the pattern without re.escape, so '.', '+', '*' and '(' in a label act as regular-expression syntax
import re


def parse_answer(text, labels):
    best = None
    for label in labels:
        try:
            match = re.search(rf"(?<![^\W_]){label}(?![^\W_])", text, flags=re.IGNORECASE)
        except re.error:
            continue
        if match is not None and (best is None or (match.start(), -len(label)) < best[:2]):
            best = (match.start(), -len(label), label)
    return None if best is None else best[2]
