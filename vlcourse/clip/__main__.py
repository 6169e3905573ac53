"""``python -m vlcourse.clip --preset tiny``: train the reference checkpoint."""

from vlcourse.clip.train import main

main()
