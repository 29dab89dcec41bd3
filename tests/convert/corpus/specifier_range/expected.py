import sklearn # >= 1.2, < 2.0
