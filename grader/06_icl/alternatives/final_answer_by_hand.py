# cell: chain_of_thought
# why: walks the text backwards collecting digits, without regular expressions
# expect: full
COT_TEMPLATE = "{input}: {label}"
DIRECT_TEMPLATE = "{input}={label}"


def cot_prompt(question, demos=()):
    return "".join(f"{q}: {c}\n" for q, c in demos) + f"{question}:"


def extract_final_answer(text):
    end = len(text)
    while end > 0 and not text[end - 1].isdigit():
        end -= 1
    if end == 0:
        return None
    start = end
    while start > 0 and text[start - 1].isdigit():
        start -= 1
    value = int(text[start:end])
    if start > 0 and text[start - 1] == "-" and not (start > 1 and text[start - 2].isdigit()):
        value = -value
    return value
