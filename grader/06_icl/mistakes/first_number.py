# cell: chain_of_thought
# why: takes the first number of the chain (its first step) instead of the last
COT_TEMPLATE = "{input}: {label}"
DIRECT_TEMPLATE = "{input}={label}"


def cot_prompt(question, demos=()):
    return build_few_shot_prompt(demos, question, COT_TEMPLATE)


def extract_final_answer(text):
    numbers = re.findall(r"(?<!\d)-?\d+", text)
    return int(numbers[0]) if numbers else None
