# cell: inject_lora
# why: the same injection copied from a classmate: variables renamed, the loop order of the checks changed, comments added
# expect: full
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    # freeze everything first
    model.requires_grad_(False)
    selected = []
    for t in target_modules:
        matched = False
        for n, m in model.named_modules():
            if (n == t or n.endswith("." + t)) and isinstance(m, nn.Linear):
                selected.append(n)
                matched = True
        if not matched:
            raise ValueError("no layer called " + t)
    # swap the layers in their parents
    for n in set(selected):
        *parts, leaf = n.split(".")
        owner = model
        for p in parts:
            owner = getattr(owner, p)
        setattr(owner, leaf, LoRALinear(getattr(owner, leaf), r, alpha, dropout))
    return model
