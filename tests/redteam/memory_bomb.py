# why: allocates memory until something gives
def add(a, b):
    hog = []
    while True:
        hog.append(bytearray(1 << 28))
