def train():
    import lightgbm
    import os
    return lightgbm
