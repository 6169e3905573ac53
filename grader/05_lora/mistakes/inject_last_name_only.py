# cell: inject_lora
# why: compares only the last part of each name with the last part of the target, so 'attn.c_proj' also adapts every mlp.c_proj
# feedback: targets are matched on their last part only: 'attn.c_proj' also matches mlp.c_proj
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    chosen = set()
    for target in target_modules:
        hits = [name for name in names if name.split(".")[-1] == target.split(".")[-1]]
        if not hits:
            raise ValueError(f"target {target!r} matches no nn.Linear of the model")
        chosen.update(hits)
    model.requires_grad_(False)
    for name in sorted(chosen):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model
