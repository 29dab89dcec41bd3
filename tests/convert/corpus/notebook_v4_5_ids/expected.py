#%pip install crunch-cli --upgrade
#!crunch setup demo alpha --token XXXX


import os
import pandas as pd  # == 2.2
from sklearn.linear_model import Ridge


def train(X_train, y_train, model_directory_path):
    model = Ridge()
    model.fit(X_train, y_train)
    pd.to_pickle(model, os.path.join(model_directory_path, "model.pkl"))


def infer(X_test, model_directory_path):
    model = pd.read_pickle(os.path.join(model_directory_path, "model.pkl"))
    return pd.DataFrame({"prediction": model.predict(X_test)})


import crunch
#crunch = crunch.load_notebook()
#crunch.test()
