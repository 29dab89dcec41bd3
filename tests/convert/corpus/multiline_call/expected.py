#model = Model(
#    depth=3,
#
#    rate=0.1,
#)
