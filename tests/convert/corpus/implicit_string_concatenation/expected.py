#message = (
#    'first part '
#    'second part'
#)
