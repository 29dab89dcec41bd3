@functools.cache
def cached():
    return 1


@dataclasses.dataclass
class Point:
    x: int = 0
