# @crunch/keep:on
CONSTANT = 3
if CONSTANT:
    pass
# @crunch/keep:off
#x = 1
