# cell: inject_lora
# why: walks the module tree recursively with named_children and checks the targets afterwards
# expect: full
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    for p in model.parameters():
        p.requires_grad = False
    used = {t: 0 for t in target_modules}

    def visit(module, prefix):
        for child_name, child in list(module.named_children()):
            full = f"{prefix}.{child_name}" if prefix else child_name
            hit = [t for t in target_modules if full == t or full.endswith("." + t)]
            if hit and isinstance(child, nn.Linear):
                for t in hit:
                    used[t] += 1
                setattr(module, child_name, LoRALinear(child, r, alpha, dropout))
            else:
                visit(child, full)

    visit(model, "")
    missing = [t for t, n in used.items() if n == 0]
    if missing:
        raise ValueError(f"no linear layer matches {missing}")
    return model
