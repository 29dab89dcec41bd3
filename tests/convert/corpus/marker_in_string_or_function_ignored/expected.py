def f():
    # @crunch/keep:on
    pass
#s = '''
## @crunch/keep:on
#'''
#z = 3
