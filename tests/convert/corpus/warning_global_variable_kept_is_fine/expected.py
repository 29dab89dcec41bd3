# @crunch/keep:on
FEATURES = ['a']
# @crunch/keep:off


def infer(X):
    return X[FEATURES]
