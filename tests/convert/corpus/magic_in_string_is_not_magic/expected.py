#command = '!ls'
#template = '''
#%s
#!cmd
#'''
