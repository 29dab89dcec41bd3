def setup():
    pass  #!nvidia-smi
    pass  #%time run()

#if gpu:
#    pass  #!nvidia-smi
