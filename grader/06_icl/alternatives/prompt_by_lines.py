# cell: few_shot_prompt
# why: builds the list of lines and joins them with newlines; the query line stripped of trailing spaces
# expect: full
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = []
    for x, y in examples:
        lines.append(template.format(input=x, label=y))
    lines.append(template.format(input=query, label="").rstrip())
    return "\n".join(lines)
