# cell: mae_encoder
# why: the same encoder copied from a classmate: renamed, the weight and bias read on separate lines, a comment and an unused variable added
# expect: full
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        # turn the image into patch vectors
        p = patchify(imgs, self.patch_size)
        b = self.patch_embed.bias
        w = self.patch_embed.weight
        h = torch.matmul(p, w.transpose(0, 1)) + b
        h = h + self.pos_embed[0, 1:].unsqueeze(0)
        vis, mask, ids_restore = random_masking(h, mask_ratio, noise, generator)
        unused = vis.shape
        cls = vis.new_zeros(vis.shape[0], 1, vis.shape[2]) + self.cls_token + self.pos_embed[:, 0:1]
        out = torch.cat((cls, vis), dim=1)
        i = 0
        while i < len(self.blocks):
            out = self.blocks[i](out)
            i += 1
        return self.norm(out), mask, ids_restore
