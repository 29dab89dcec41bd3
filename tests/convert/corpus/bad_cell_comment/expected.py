import os


# bad cell: invalid syntax (line 1)
#def broken(:
#    pass


def ok():
    pass
