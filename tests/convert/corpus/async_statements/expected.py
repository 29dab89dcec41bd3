async def fetch():
    return 1

#async with lock:
#    pass
#await fetch()
