#del x
#pass
