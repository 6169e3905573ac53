# cell: few_shot_prompt
# why: fills the template with str.replace instead of str.format: escaped braces stay doubled, and an example whose input contains "{label}" gets the label pasted into it
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    lines = [template.replace("{input}", x).replace("{label}", y) + "\n" for x, y in examples]
    return "".join(lines) + template.replace("{input}", query).replace("{label}", "").rstrip()
