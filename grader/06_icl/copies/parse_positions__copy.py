# cell: parse_answer
# why: the same parser copied with new names and a changed comment
# expect: full
import re


def parse_answer(text, labels):
    # lower-case once
    low = text.lower()
    hits = []
    for i, label in enumerate(labels):
        pat = r"(?<![a-z0-9])" + re.escape(label.lower()) + r"(?![a-z0-9])"
        m = next(re.finditer(pat, low), None)
        if m:
            hits.append((m.start(), -len(label), i, label))
    if not hits:
        return None
    hits.sort()
    return hits[0][3]
