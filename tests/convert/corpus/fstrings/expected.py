#name = 'world'
#print(f"hello {name!r:>10}")
#f'{1 + 1}'
