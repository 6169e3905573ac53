"""vlcourse: courseware for self-supervised and vision-language learning.

Subpackages and modules, one per topic (``simclr``, ``gpt``, ...), plus shared pieces:
``data`` (datasets), ``training`` (the training loop), ``checkpoints`` (safetensors + manifest),
``grading`` (the sandboxed autograder) and ``building`` (source -> student notebooks).
"""

__version__ = "0.1.0"
