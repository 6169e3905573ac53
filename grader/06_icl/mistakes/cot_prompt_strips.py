# cell: chain_of_thought
# why: strips the question and the demos before building the prompt, so demos and questions with their own spaces change
COT_TEMPLATE = "{input}: {label}"
DIRECT_TEMPLATE = "{input}={label}"


def cot_prompt(question, demos=()):
    return build_few_shot_prompt([(q.strip(), c.strip()) for q, c in demos], question.strip(), COT_TEMPLATE)


def extract_final_answer(text):
    numbers = re.findall(r"(?<!\d)-?\d+", text)
    return int(numbers[-1]) if numbers else None
