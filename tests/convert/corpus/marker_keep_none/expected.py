# @crunch/keep:none
#import hidden
#def f():
#    pass
# @crunch/keep:off
import shown
