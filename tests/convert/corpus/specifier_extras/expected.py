import tqdm # [foo, bar]
