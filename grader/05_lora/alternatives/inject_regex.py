# cell: inject_lora
# why: matches with re.fullmatch on an escaped target after an optional dotted prefix, keeps the matches in a dict (each layer once), freezes through a loop
# expect: full
import re


def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    for param in model.parameters():
        param.requires_grad = False
    found = {}
    for target in target_modules:
        pattern = re.compile(r"(?:.+\.)?" + re.escape(target))
        matched = [name for name, m in model.named_modules() if isinstance(m, nn.Linear) and pattern.fullmatch(name)]
        if not matched:
            raise ValueError(f"no nn.Linear matches {target!r}")
        found.update(dict.fromkeys(matched))
    for name in found:
        *path, child = name.split(".")
        parent = model
        for part in path:
            parent = getattr(parent, part)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model
