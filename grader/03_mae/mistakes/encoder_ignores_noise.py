# cell: mae_encoder
# why: calls random_masking without passing on noise and generator, so the masks cannot be controlled or reproduced
# feedback: noise and generator are not passed on to random_masking
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        x = self.patch_embed(patchify(imgs, self.patch_size))
        x = x + self.pos_embed[:, 1:]
        x, mask, ids_restore = random_masking(x, mask_ratio)
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([cls.expand(x.size(0), -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
