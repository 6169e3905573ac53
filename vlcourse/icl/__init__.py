"""In-context learning in a small GPT, trained on synthetic few-shot episodes.

* ``tokenizer``: :class:`VocabTokenizer` (whole words and characters, greedy longest match).
* ``episodes``: tasks with real, flipped and nonsense labels; products with and without a chain of thought.
* ``train``: :data:`PRESETS`, :func:`train_icl`, the measurements (:func:`measure`,
  :func:`shots_curve`, :func:`arithmetic_accuracy`, :func:`seen_vs_unseen`), :func:`load_icl_model`.

Assignment 06 (through the ``openai`` client; import these from their modules, the package does not):

* ``prompting``, ``evaluation``, ``reasoning``, ``socratic``, ``descriptors`` (students write them;
  withheld while grading): few-shot prompts, answer parsing, k-shot accuracy by generation or label
  scoring, chain of thought and self-consistency, Socratic captioning, classification by descriptions.
* ``data``: episodes as plain data, products, the course's CLIP; ``probes``: a scripted endpoint for tests.

The shipped checkpoint ``icl_tiny`` is served by ``vlcourse serve`` as the model ``icl-tiny``.
Train it with ``python -m vlcourse.icl --preset tiny``.
"""

from vlcourse.icl.episodes import (EpisodeConfig, EpisodeSampler, Task, few_shot_prompt, random_task, task_pool)
from vlcourse.icl.tokenizer import VocabTokenizer, episode_vocabulary
from vlcourse.icl.train import (CHECKPOINT, PRESETS, ICLPreset, arithmetic_accuracy, greedy_complete, icl_tokenizer,
                                load_icl_model, measure, seen_vs_unseen, shots_curve, train_icl, train_reference)
