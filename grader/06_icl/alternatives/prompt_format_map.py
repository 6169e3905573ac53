# cell: few_shot_prompt
# why: fills the template with str.format_map and a loop that appends each line and its newline
# expect: full
TEMPLATE = "{input} -> {label}"


def build_few_shot_prompt(examples, query, template):
    prompt = ""
    for x, y in examples:
        prompt += template.format_map({"input": x, "label": y}) + "\n"
    query_line = template.format_map({"input": query, "label": ""})
    while query_line and query_line[-1].isspace():
        query_line = query_line[:-1]
    return prompt + query_line
