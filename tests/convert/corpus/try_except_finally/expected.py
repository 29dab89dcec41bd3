#try:
#    import fancy
#except ImportError:
#    fancy = None
#finally:
#    done = True
