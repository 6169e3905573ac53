# cell: mae_encoder
# why: appends the class token after the visible patches instead of putting it in front
# feedback: the class token must come first in the sequence, before the visible patches
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        x = self.patch_embed(patchify(imgs, self.patch_size))
        x = x + self.pos_embed[:, 1:]
        x, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([x, cls.expand(x.size(0), -1, -1)], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
