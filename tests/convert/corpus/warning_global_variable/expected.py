#FEATURES = ['a', 'b']


def infer(X):
    return X[FEATURES]
