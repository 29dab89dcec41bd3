#  pass  #!ls
