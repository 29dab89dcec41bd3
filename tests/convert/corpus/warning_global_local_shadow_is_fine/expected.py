#rate = 0.1


def f(rate):
    return rate
def g():
    rate = 2
    return rate
