# cell: parse_answer
# why: scans the text position by position, checking word boundaries by hand
# expect: full
import re


def parse_answer(text, labels):
    low = text.lower()
    for start in range(len(low)):
        if start > 0 and low[start - 1].isalnum():
            continue
        hits = []
        for label in labels:
            end = start + len(label)
            if low.startswith(label.lower(), start) and (end == len(low) or not low[end].isalnum()):
                hits.append(label)
        if hits:
            return max(hits, key=len)
    return None
