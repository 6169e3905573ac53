# cell: inject_lora
# why: the injection above copied: variables renamed, the freezing moved first, the two branches swapped
# expect: full
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    for q in model.parameters():
        q.requires_grad = False
    mods = dict(model.named_modules())
    lin = [n for n, m in mods.items() if isinstance(m, nn.Linear)]
    picked = []
    for t in target_modules:
        found = [n for n in lin if n.split(".")[-len(t.split(".")):] == t.split(".")]
        if len(found) == 0:
            raise ValueError(f"no nn.Linear named {t} in this model")
        picked.extend(f for f in found if f not in picked)
    for n in picked:
        if "." not in n:
            owner, attr = model, n
        else:
            owner_name, attr = n.rsplit(".", 1)
            owner = mods[owner_name]
        setattr(owner, attr, LoRALinear(mods[n], r, alpha, dropout))
    return model
