#square = lambda v: v * v
