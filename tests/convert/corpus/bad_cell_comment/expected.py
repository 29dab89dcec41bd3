import os


#def broken(:
#    pass


def ok():
    pass
