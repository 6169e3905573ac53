# cell: chain_of_thought
# why: reads decimals as numbers and rounds them down ('0.25' gives 0, '3.5' gives 3), where the markdown takes the last run of digits
COT_TEMPLATE = "{input}: {label}"
DIRECT_TEMPLATE = "{input}={label}"


def cot_prompt(question, demos=()):
    return build_few_shot_prompt(demos, question, COT_TEMPLATE)


def extract_final_answer(text):
    numbers = re.findall(r"(?<!\d)-?\d+(?:\.\d+)?", text)
    return int(float(numbers[-1])) if numbers else None
