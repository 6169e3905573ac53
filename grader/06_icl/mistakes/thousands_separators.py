# cell: chain_of_thought
# why: reads '1,234' as one number (thousands separators), which the markdown excludes: the last integer of '1,234' is 234
COT_TEMPLATE = "{input}: {label}"
DIRECT_TEMPLATE = "{input}={label}"


def cot_prompt(question, demos=()):
    return build_few_shot_prompt(demos, question, COT_TEMPLATE)


def extract_final_answer(text):
    numbers = re.findall(r"(?<![\d,])-?\d{1,3}(?:,\d{3})+(?!\d)|(?<!\d)-?\d+", text)
    return int(numbers[-1].replace(",", "")) if numbers else None
