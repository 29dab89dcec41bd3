# @crunch/keep:on
x = 1


#y = 2
