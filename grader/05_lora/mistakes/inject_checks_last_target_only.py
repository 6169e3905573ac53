# cell: inject_lora
# why: the check for unmatched targets sits after the loop, so only the last target is checked
# feedback: a target other than the last that matches nothing does not raise ValueError
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    chosen = set()
    for target in target_modules:
        hits = [name for name in names if name == target or name.endswith("." + target)]
        chosen.update(hits)
    if not hits:
        raise ValueError(f"target {target!r} matches no nn.Linear of the model")
    model.requires_grad_(False)
    for name in sorted(chosen):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model
