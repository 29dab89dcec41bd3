#total += 1
#count: int = 0
#name: str
