"""The exported course GPTs load with transformers and compute the same logits and tokens as ours."""

import pytest
import torch

from vlcourse.llm.hf_export import export_model, gpt2_state_dict
from vlcourse.serve.models import available_models, load_served_model

transformers = pytest.importorskip("transformers")

TEXTS = {
    "gpt-shakespeare-tiny": ["ROMEO:\nWhat light through yonder window breaks?", "\n\nKING HENRY IV:\n' -3$&"],
    "icl-tiny": ["red circle -> dax\nblue star -> wug\nred star ->", "3*4*2*5: 3*4=12, 12*2=24", "Hello? ok"],
    "caption-gpt-shapes-tiny": ["a red circle\nthere is a small blue square above a green triangle\n", "\n\na red",
                                "<bos> a <pad> red"],
}


@pytest.mark.parametrize("name", available_models())
def test_exported_model_loads_with_transformers_and_matches(name, tmp_path):
    served = load_served_model(name)
    folder = export_model(served.model, served.tokenizer, tmp_path / name)
    hf_model = transformers.GPT2LMHeadModel.from_pretrained(folder).eval()
    hf_tok = transformers.AutoTokenizer.from_pretrained(folder)
    for text in TEXTS[name]:
        ids = served.tokenizer.encode(text)
        assert hf_tok(text)["input_ids"] == ids
        assert hf_tok.decode(ids) == text
        with torch.no_grad():
            ours = served.model(torch.tensor([ids]))[0]  # (1, T, V)
            theirs = hf_model(torch.tensor([ids])).logits  # (1, T, V)
        torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=1e-4)
    x = torch.tensor([ids])
    greedy = hf_model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=10, do_sample=False, pad_token_id=0)
    from vlcourse.gpt import generate

    assert greedy.tolist() == generate(served.model, torch.tensor([ids]), 10, greedy=True).tolist()


def test_models_without_biases_export_zero_biases():
    from vlcourse.gpt import GPT, GPTConfig

    state = gpt2_state_dict(GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8, bias=False)))
    assert torch.equal(state["transformer.h.0.attn.c_attn.bias"], torch.zeros(24))
    assert torch.equal(state["transformer.ln_f.bias"], torch.zeros(8))
    assert state["transformer.h.0.mlp.c_fc.weight"].shape == (8, 32)
