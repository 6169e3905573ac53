"""Small, fast demos behind the two lecture notebooks in ``lectures/``.

Each module holds the few functions one lecture section needs, where no assignment builds them:

* ``contrastive``: NPID's memory bank and non-parametric softmax; the "only the diagonal" collapse.
* ``language``: log-probabilities of continuations and perplexity with the course's GPT.
* ``webdata``: a deliberately noisy image / alt-text set from shapes captions, and ALIGN-,
  Conceptual-Captions- and LAION-style filters.
* ``blip``: BLIP's ITM hard negatives and CapFilt on noisy captions.
* ``vqa``: shapes questions, a blind (question-only) baseline and answer balancing (VQA v2).
* ``flamingo``: tanh-gated cross-attention (identity at init) and a Perceiver resampler.
* ``binding``: Frozen-style fast binding of new words ("dax", "blicket") within one input.
* ``emergence``: exact match versus per-token accuracy; self-consistency voting.
* ``incontext``: in-context learning appearing with the number of training tasks (Kirsch et al. 2022).
* ``adaptation``: a PGN-style prompt generator (input-dependent prompts for a frozen model).
* ``plots``: box-and-arrow diagrams and image grids with captions for the slides.

Everything runs in seconds on a CPU; nothing downloads.
"""
