# cell: inject_lora
# why: matches targets as substrings of the name (so 'c_att' matches c_attn)
# feedback: a target that is only part of a name (c_att) is accepted instead of raising ValueError
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    chosen = set()
    for target in target_modules:
        hits = [name for name in names if target in name]
        if not hits:
            raise ValueError(f"target {target!r} matches no nn.Linear of the model")
        chosen.update(hits)
    model.requires_grad_(False)
    for name in sorted(chosen):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model
