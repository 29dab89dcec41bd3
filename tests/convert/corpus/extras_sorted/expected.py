import tqdm # [zeta, Alpha]
