# cell: few_shot_prompt
# why: no newline after each example: the shots run into one line
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = [template.format(input=x, label=y) + " " for x, y in examples]
    return "".join(lines) + template.format(input=query, label="").rstrip()
