import tqdm # [notebook]


import tqdm # == 4.0
