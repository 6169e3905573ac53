# cell: few_shot_prompt
# why: strips the inputs, labels and query before filling the template, changing demos and questions that carry their own spaces
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = [template.format(input=x.strip(), label=y.strip()) + "\n" for x, y in examples]
    return "".join(lines) + template.format(input=query.strip(), label="").rstrip()
