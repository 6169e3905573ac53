# cell: few_shot_prompt
# why: the query line keeps the template's trailing space ('red star -> '), a format the model never saw
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = [template.format(input=x, label=y) + "\n" for x, y in examples]
    return "".join(lines) + template.format(input=query, label="")
