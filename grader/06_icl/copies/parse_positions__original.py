# cell: parse_answer
# why: a student's own parser: every label's match position with re.finditer, the winner by a sort key (copy-detection corpus)
# expect: full
import re


def parse_answer(text, labels):
    found = []
    lowered = text.lower()
    for order, lab in enumerate(labels):
        pattern = r"(?<![a-z0-9])" + re.escape(lab.lower()) + r"(?![a-z0-9])"
        hit = next(re.finditer(pattern, lowered), None)
        if hit:
            found.append((hit.start(), -len(lab), order, lab))
    if not found:
        return None
    found.sort()
    return found[0][3]
