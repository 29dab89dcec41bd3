# bad cell: invalid syntax (line 3)
#value = compute(
#    1,
#    %  3,
#)
