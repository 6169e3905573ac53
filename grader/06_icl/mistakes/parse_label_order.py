# cell: parse_answer
# why: returns the first label of the list that occurs, not the label that occurs first in the text
import re


def parse_answer(text, labels):
    for label in labels:
        if re.search(rf"(?<![^\W_]){re.escape(label)}(?![^\W_])", text, flags=re.IGNORECASE):
            return label
    return None
