import numpy as np
#THRESHOLD = 0.5


def infer(X):
    return X > THRESHOLD
