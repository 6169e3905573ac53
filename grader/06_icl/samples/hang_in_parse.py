# cell: parse_answer
# why: parse_answer never returns (a loop that never ends): it costs one scaled time limit, then fails at once
# expect: zero
import re


def parse_answer(text, labels):
    position = 0
    while True:
        position = (position + 1) % max(1, len(text))
