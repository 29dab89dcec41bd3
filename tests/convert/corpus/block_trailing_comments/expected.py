#if x:
#    a = 1
#
#    # inside the block

# outside
#b = 2
