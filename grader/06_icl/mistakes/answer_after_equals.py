# cell: chain_of_thought
# why: reads the text after the last '=' only: 'The answer is 42.' and 'so 8' give None
COT_TEMPLATE = "{input}: {label}"
DIRECT_TEMPLATE = "{input}={label}"


def cot_prompt(question, demos=()):
    return build_few_shot_prompt(demos, question, COT_TEMPLATE)


def extract_final_answer(text):
    tail = text.rsplit("=", 1)[-1].strip()
    return int(tail) if tail.isdigit() else None
