# cell: few_shot_prompt
# why: the examples go into the prompt in reverse order (the most recent first)
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = [template.format(input=x, label=y) + "\n" for x, y in reversed(examples)]
    return "".join(lines) + template.format(input=query, label="").rstrip()
