# cell: inject_lora
# why: injects into a deep copy of the model and returns the copy: the caller's model is unchanged
# feedback: inject_lora returns a copy: the model passed in is not changed in place
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    model = copy.deepcopy(model)
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    chosen = set()
    for target in target_modules:
        hits = [name for name in names if name == target or name.endswith("." + target)]
        if not hits:
            raise ValueError(f"target {target!r} matches no nn.Linear of the model")
        chosen.update(hits)
    model.requires_grad_(False)
    for name in sorted(chosen):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model
