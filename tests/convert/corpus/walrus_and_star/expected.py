#if (n := 10) > 5:
#    pass
#first, *rest = [1, 2, 3]
