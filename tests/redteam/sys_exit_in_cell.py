# why: calls sys.exit while the cell runs
import sys
sys.exit(0)
def add(a, b):
    return a + b
