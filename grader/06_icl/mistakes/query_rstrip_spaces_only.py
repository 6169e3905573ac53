# cell: few_shot_prompt
# why: removes only trailing spaces from the query line (rstrip(" ")), so a template with a tab or a newline before the label leaves it at the end of the prompt
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = [template.format(input=x, label=y) + "\n" for x, y in examples]
    return "".join(lines) + template.format(input=query, label="").rstrip(" ")
