#SIZE = 3


class Model:
    size = SIZE
    def fit(self):
        return [SIZE for _ in range(2)]
