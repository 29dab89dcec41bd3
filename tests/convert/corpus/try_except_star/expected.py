#try:
#    run()
#except* ValueError:
#    pass
