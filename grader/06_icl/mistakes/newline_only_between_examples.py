# cell: few_shot_prompt
# why: newlines only between the examples, none before the query: the last label and the query share a line
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = [template.format(input=x, label=y) for x, y in examples]
    return "\n".join(lines) + template.format(input=query, label="").rstrip()
