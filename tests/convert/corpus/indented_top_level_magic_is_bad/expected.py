# bad cell: unexpected indent (line 1)
#  pass  #!ls
