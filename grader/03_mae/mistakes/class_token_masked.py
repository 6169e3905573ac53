# cell: mae_encoder
# why: prepends the class token before masking, so it is shuffled and masked like a patch (and the mask gets L + 1 entries)
# feedback: the class token goes through random_masking; it must be added after masking, in front, and never removed
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        x = self.patch_embed(patchify(imgs, self.patch_size))
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.size(0), -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        if noise is not None:
            noise = torch.cat([torch.zeros_like(noise[:, :1]), noise], dim=1)
        x, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
