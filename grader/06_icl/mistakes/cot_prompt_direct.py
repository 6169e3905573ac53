# cell: chain_of_thought
# why: the chain-of-thought prompt uses the direct template ('1+2+3+4='): the model answers at once
COT_TEMPLATE = "{input}: {label}"
DIRECT_TEMPLATE = "{input}={label}"


def cot_prompt(question, demos=()):
    return build_few_shot_prompt(demos, question, DIRECT_TEMPLATE)


def extract_final_answer(text):
    numbers = re.findall(r"(?<!\d)-?\d+", text)
    return int(numbers[-1]) if numbers else None
