# cell: parse_answer
# why: only an exact match of the stripped text counts: 'Dax.' or '**wug**' give None
import re


def parse_answer(text, labels):
    answer = text.strip()
    return answer if answer in labels else None
