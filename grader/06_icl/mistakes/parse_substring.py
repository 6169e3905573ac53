# cell: parse_answer
# why: a label counts anywhere inside a word ('tomato' names 'toma'), checked in the order of the labels
import re


def parse_answer(text, labels):
    for label in labels:
        if label.lower() in text.lower():
            return label
    return None
