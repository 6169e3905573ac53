# cell: self_consistency
# why: statistics.mode (the first mode on a tie since Python 3.8) over the parsed answers of one request with n choices
# expect: full
import statistics


def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n < 1:
        raise ValueError("n >= 1")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature,
                                      max_tokens=40, stop=["\n"])
    answers = [extract_final_answer(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]
    answers = [a for a in answers if a is not None]
    return statistics.mode(answers) if answers else None
