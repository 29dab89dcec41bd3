#global q
#nonlocal r
#x = 1
