# why: prints gigabytes of output
import sys
chunk = "x" * (1 << 20) + "\n"
for _ in range(2048):
    sys.stdout.write(chunk)
def add(a, b):
    return a
