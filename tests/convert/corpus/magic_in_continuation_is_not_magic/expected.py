#value = compute(
#    1,
#    %  3,
#)
