# cell: inject_lora
# why: a student's own injection: a dictionary of every linear layer, suffix matching by split, the parent looked up in the same dictionary (copy-detection corpus)
# expect: full
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    modules = dict(model.named_modules())
    linears = [name for name, module in modules.items() if isinstance(module, nn.Linear)]
    selected = []
    for target in target_modules:
        matches = [name for name in linears if name.split(".")[-len(target.split(".")):] == target.split(".")]
        if len(matches) == 0:
            raise ValueError(f"no nn.Linear named {target} in this model")
        selected.extend(m for m in matches if m not in selected)
    for p in model.parameters():
        p.requires_grad = False
    for name in selected:
        if "." in name:
            owner_name, attribute = name.rsplit(".", 1)
            owner = modules[owner_name]
        else:
            owner, attribute = model, name
        setattr(owner, attribute, LoRALinear(modules[name], r, alpha, dropout))
    return model
