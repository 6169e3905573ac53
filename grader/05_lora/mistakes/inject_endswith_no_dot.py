# cell: inject_lora
# why: matches names that end with the target without the dot: 'attn' matches every c_attn, '1.attn.c_attn' also h.11's
# feedback: a target matches any name that ends with it, not only at a dot: 'attn' matches c_attn
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    chosen = set()
    for target in target_modules:
        hits = [name for name in names if name.endswith(target)]
        if not hits:
            raise ValueError(f"target {target!r} matches no nn.Linear of the model")
        chosen.update(hits)
    model.requires_grad_(False)
    for name in sorted(chosen):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model
