class Model:
    import torch
