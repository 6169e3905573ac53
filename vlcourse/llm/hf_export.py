"""The course GPTs in Hugging Face ``transformers``' GPT-2 format, for ``vllm serve`` and friends.

Our GPT is GPT-2's architecture with GPT-2's parameter names, so an export is a renaming plus one
transposition: GPT-2's original code stores its projections as ``Conv1D`` weights of shape
(in, out), PyTorch's ``nn.Linear`` as (out, in). The folder written holds

* ``config.json``: a ``GPT2Config`` (``n_positions`` = our ``block_size``, exact GELU, LayerNorm eps 1e-5);
* ``model.safetensors``: the weights under ``transformer.*`` names (the output layer is tied);
* ``tokenizer.json`` + ``tokenizer_config.json``: our tokenizer rebuilt with the ``tokenizers``
  library: a ``Split`` pre-tokenizer whose regular expression lists the tokens longest first (greedy
  longest match, as ours), a ``WordLevel`` vocabulary and a ``Fuse`` decoder (tokens concatenate).

``transformers`` itself is not needed to export (only to load, as the tests do).

Usage: ``python -m vlcourse.llm.hf_export gpt-shakespeare-tiny exported/gpt-shakespeare-tiny``, then
``vllm serve exported/gpt-shakespeare-tiny``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

TRANSPOSED = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def gpt2_config(model: nn.Module) -> dict:
    """``config.json`` of a ``GPT2LMHeadModel`` with the same shape as ``model``."""
    c = model.config
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": c.vocab_size, "n_positions": c.block_size, "n_ctx": c.block_size, "n_embd": c.n_embd,
        "n_layer": c.n_layer, "n_head": c.n_head, "n_inner": 4 * c.n_embd, "activation_function": "gelu",
        "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
        "scale_attn_weights": True, "tie_word_embeddings": True, "use_cache": True,
        "bos_token_id": None, "eos_token_id": None, "torch_dtype": "float32",
    }


def gpt2_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our weights under GPT-2's names, Conv1D layouts and (zero) biases where ours have none."""
    out = {}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            continue  # tied to wte
        value = tensor.detach().float()
        if name.endswith(TRANSPOSED):
            value = value.t()  # (out, in) -> (in, out)
        out[f"transformer.{name}"] = value.contiguous()
    for name, tensor in list(out.items()):  # GPT-2 always has biases
        if name.endswith("weight") and ("ln_" in name or "c_" in name):
            bias = name.removesuffix("weight") + "bias"
            if bias not in out:
                width = tensor.shape[-1] if ".c_" in name else tensor.shape[0]
                out[bias] = torch.zeros(width)
    return out


def _rust_literal(token: str) -> str:
    """A token as a literal of the Rust ``regex`` crate (the ``tokenizers`` library's)."""
    return "".join(ch if ch.isascii() and ch.isalnum() else f"\\x{{{ord(ch):X}}}" for ch in token)


def token_strings(tokenizer) -> list[str]:
    """The token string of every id: a character tokenizer's characters, a vocabulary tokenizer's tokens."""
    if hasattr(tokenizer, "tokens"):
        return list(tokenizer.tokens)
    return list(tokenizer.chars)


def hf_tokenizer(tokens: list[str]):
    """A ``tokenizers.Tokenizer`` that splits and numbers text exactly as our tokenizer over ``tokens``."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    pattern = "|".join(_rust_literal(t) for t in sorted(tokens, key=len, reverse=True))
    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(tokens)}, unk_token=tokens[0]))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return tok


def export_model(model: nn.Module, tokenizer, out: Path) -> Path:
    """Write ``model`` and ``tokenizer`` to ``out`` in transformers' GPT-2 format; returns ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(gpt2_config(model), indent=2) + "\n")
    save_file(gpt2_state_dict(model), str(out / "model.safetensors"), metadata={"format": "pt"})
    # a tokenizer that is not a list of concatenated tokens (the caption GPT's words) builds its own
    hf_tok = tokenizer.hf_tokenizer() if hasattr(tokenizer, "hf_tokenizer") else hf_tokenizer(token_strings(tokenizer))
    hf_tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": model.config.block_size,
        "clean_up_tokenization_spaces": False}, indent=2) + "\n")
    return out


def export_served(name: str, out: Path) -> Path:
    """Export a model ``vlcourse serve`` serves (``gpt-shakespeare-tiny``, ``icl-tiny``, ``caption-gpt-shapes-tiny``) by its name."""
    from vlcourse.serve.models import load_served_model

    served = load_served_model(name)
    return export_model(served.model, served.tokenizer, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export a course GPT in Hugging Face GPT-2 format.")
    parser.add_argument("model", help="a served model name, e.g. gpt-shakespeare-tiny or icl-tiny")
    parser.add_argument("out", help="output folder")
    args = parser.parse_args(argv)
    print(f"wrote {export_served(args.model, Path(args.out))}")


if __name__ == "__main__":
    main()
