# cell: self_consistency
# why: the shortcut: computes the product of the question in Python and only falls back to the chains when the question is not a product, so it never reads what the model answered
import math


def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n < 1:
        raise ValueError("n must be >= 1")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature,
                                      max_tokens=40, stop=["\n"])
    try:
        return math.prod(int(x) for x in question.split("*"))
    except ValueError:
        pass
    answers = [extract_final_answer(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]
    votes = Counter(a for a in answers if a is not None)
    return votes.most_common(1)[0][0] if votes else None
