#Vector = list[float]
def norm(v: Vector) -> float:
    return 0.0
